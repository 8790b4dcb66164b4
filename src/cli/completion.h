// `troupe completion bash|zsh`: the scripts of completions/, embedded at build time.
#pragma once

#include <string_view>

namespace troupe {

// The completion script for "bash" or "zsh"; "" for any other shell.
std::string_view CompletionScript(std::string_view shell);

}  // namespace troupe
