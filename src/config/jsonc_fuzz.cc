// libFuzzer target: the JSONC pre-pass, the parse and the whole loader on arbitrary bytes. Beyond
// "no crash, no sanitizer report", it checks the pre-pass's promises: same length, line ends
// kept, and every position inside the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/config_loader.h"
#include "config/jsonc.h"

namespace {

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

bool Inside(std::string_view text, troupe::TextPosition p) {
  const troupe::TextPosition end = troupe::PositionInText(text, text.size());
  return p.line >= 1 && p.column >= 1 &&
         (p.line < end.line || (p.line == end.line && p.column <= end.column));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const troupe::JsoncScan scan = troupe::ScanJsonc(text);
  Check(scan.json.size() == text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') Check(scan.json[i] == text[i]);
  }
  if (scan.error) Check(Inside(text, scan.error->position));
  for (const auto& [pointer, position] : scan.values) Check(Inside(text, position));
  for (const auto& [pointer, position] : scan.keys) Check(Inside(text, position));

  const troupe::JsoncDocument doc = troupe::ParseJsonc(text);
  if (!doc.ok()) Check(Inside(text, doc.scan.error->position));

  // Differential check against nlohmann alone: plain JSON is JSONC with the same value (unless
  // nested deeper than the pre-pass allows), and when the pre-pass changed nothing, what it
  // accepts is plain JSON. (nlohmann stops at a NUL byte as at the end of input; the pre-pass
  // rejects it, so such inputs are left out.)
  const bool has_nul = text.find('\0') != std::string_view::npos;
  if (!has_nul && nlohmann::json::accept(text)) {
    Check(doc.ok() ? doc.value == nlohmann::json::parse(text)
                   : doc.scan.error->message.rfind("nested too deeply", 0) == 0);
  }
  if (doc.ok() && !doc.scan.empty && scan.json.find_first_not_of(' ') != std::string::npos) {
    std::string unchanged(text);
    if (unchanged.rfind("\xEF\xBB\xBF", 0) == 0) unchanged.replace(0, 3, 3, ' ');
    if (scan.json == unchanged) Check(nlohmann::json::accept(scan.json));
  }

  // The whole input as one file, and split in two at its first NUL byte as a user file and a
  // project file, so merging sees arbitrary documents too.
  (void)troupe::LoadConfigFromSources({{"fuzz.jsonc", std::string(text)}});
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    (void)troupe::LoadConfigFromSources({{"user.jsonc", std::string(text.substr(0, nul))},
                                         {"project.jsonc", std::string(text.substr(nul + 1))}});
  }
  return 0;
}
