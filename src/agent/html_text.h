// A web page as text a model reads well: libxml2's HTML parser (the one browsers' error
// recovery rules are closest to among Debian's C libraries; it copes with tag soup) builds the
// tree, and this walks it. Headings become "# …", list items "- …", links "text (url)", table
// cells are separated by " | ", <pre> keeps its lines; script, style, noscript, template, svg,
// head and form controls are dropped; whitespace collapses as a browser would. Pure.
#pragma once

#include <string>
#include <string_view>

namespace troupe {

struct PageText {
  std::string title;
  std::string text;
};

// `html` in any encoding its <meta charset> declares (UTF-8 when none); `base_url` resolves
// relative links (may be empty).
PageText HtmlToText(std::string_view html, std::string_view base_url);

}  // namespace troupe
