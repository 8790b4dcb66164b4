// Trimming the ends of a piece of text. ASCII only: the text is a header value, a line of a file
// troupe reads, a token; never prose where Unicode spaces matter. Pure; views into the input.
#pragma once

#include <string_view>

namespace troupe {

// Without the ASCII white space (space, \t, \n, \v, \f, \r) at both ends.
std::string_view TrimAsciiSpace(std::string_view s);
// … at the end only.
std::string_view TrimRightAsciiSpace(std::string_view s);

// Without the spaces and tabs at both ends: HTTP's optional white space (RFC 9110 §5.6.3)
// around a header value or a list element.
std::string_view TrimBlanks(std::string_view s);

}  // namespace troupe
