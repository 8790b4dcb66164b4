// How deeply a JSON text nests, measured before parsing: nlohmann's parser, dump() and copies
// recurse, so a hostile body or stream nested thousands deep must be refused before it is
// parsed. Well-formedness is left to the parser.
#pragma once

#include <string_view>

namespace troupe {

// Deepest bracket nesting of `text`, ignoring brackets inside strings; stops counting once past
// `limit` (returns a value > limit then).
int JsonNestingDepth(std::string_view text, int limit);

}  // namespace troupe
