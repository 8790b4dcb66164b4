// How the transport hands received bytes to Beast's request parser once the head is read. Pure
// (no I/O): the connection (http/connection.h) feeds what it has read, and the fuzz target
// (http_request_fuzz.cc) feeds its input the same way, whole or a byte at a time.
//
// Why not http::async_read: Beast 1.74's chunked-body parser asserts (BOOST_ASSERT(n >= 5) in
// parse_chunk_header) when it is called again on a last chunk ("0\r\n") with fewer than five
// bytes in hand. Beast's read loop calls it with whatever arrived, so a client that sends the
// end of a chunked body in small TCP writes aborts a build with assertions on (the Debug asan
// and tsan presets, the fuzz preset). With NDEBUG the assertion is gone and the parse is right.
// The rule here avoids the state: a chunked body is fed only once five unconsumed bytes are in
// hand. It never holds a valid request back, since from any point inside a chunked body at least
// five bytes remain ("0\r\n\r\n" is the shortest end). Bodies with a Content-Length are fed as
// they come.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>

namespace troupe {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// The fewest unconsumed bytes a chunked body is fed with.
inline constexpr size_t kMinChunkedFeedBytes = 5;

// Feeds `bytes` — everything received and not yet consumed — to `parser`, whose head is done,
// as far as it goes. Returns the bytes consumed (drop them before the next call). `ec` is clear
// when the request is complete (parser.is_done()), http::error::need_more when more bytes are
// needed, or the parse error.
size_t FeedRequestBody(RequestParser& parser, boost::asio::const_buffer bytes,
                       boost::system::error_code& ec);

}  // namespace troupe
