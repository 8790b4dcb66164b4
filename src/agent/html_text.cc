#include "agent/html_text.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#include <cstring>
#include <memory>

#include "core/text_case.h"

namespace troupe {

namespace {

bool Is(const xmlNode* n, const char* name) {
  return n->name != nullptr && std::strcmp(reinterpret_cast<const char*>(n->name), name) == 0;
}

bool IsAnyOf(const xmlNode* n, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (Is(n, name)) return true;
  }
  return false;
}

std::string Attribute(const xmlNode* n, const char* name) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

// Collects text with browser-like whitespace: runs of blanks become one space, block elements
// start new lines, at most one blank line in a row.
class TextWriter {
 public:
  explicit TextWriter(std::string base) : base_(std::move(base)) {}

  void Text(std::string_view s, bool preformatted) {
    for (char c : s) {
      if (preformatted) {
        Put(c);
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
        pending_space_ = true;
      } else {
        if (pending_space_ && !out_.empty() && out_.back() != '\n' && out_.back() != ' ') Put(' ');
        pending_space_ = false;
        Put(c);
      }
    }
  }
  void Raw(std::string_view s) {
    pending_space_ = false;
    for (char c : s) Put(c);
  }
  void Line() {
    pending_space_ = false;
    while (!out_.empty() && out_.back() == ' ') out_.pop_back();
    if (!out_.empty() && out_.back() != '\n') out_ += '\n';
  }
  void Blank() {
    Line();
    if (!out_.empty() && (out_.size() < 2 || out_[out_.size() - 2] != '\n')) out_ += '\n';
  }
  std::string Link(const std::string& href) const {
    if (href.empty() || base_.empty()) return href;
    xmlChar* full = xmlBuildURI(reinterpret_cast<const xmlChar*>(href.c_str()),
                                reinterpret_cast<const xmlChar*>(base_.c_str()));
    if (full == nullptr) return href;
    std::string out(reinterpret_cast<const char*>(full));
    xmlFree(full);
    return out;
  }
  std::string Take() {
    Line();
    while (!out_.empty() && out_.front() == '\n') out_.erase(0, 1);
    while (!out_.empty() && out_.back() == '\n') out_.pop_back();
    return std::move(out_);
  }
  size_t size() const { return out_.size(); }

 private:
  void Put(char c) { out_ += c; }

  std::string base_;
  std::string out_;
  bool pending_space_ = false;
};

void Walk(const xmlNode* node, TextWriter& w, bool pre, std::string* title) {
  for (const xmlNode* n = node; n != nullptr; n = n->next) {
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      if (n->content != nullptr) w.Text(reinterpret_cast<const char*>(n->content), pre);
      continue;
    }
    if (n->type != XML_ELEMENT_NODE) continue;
    if (Is(n, "title")) {
      if (title->empty() && n->children && n->children->content) {
        TextWriter t("");
        t.Text(reinterpret_cast<const char*>(n->children->content), false);
        *title = t.Take();
      }
      continue;
    }
    if (IsAnyOf(n, {"script", "style", "noscript", "template", "svg", "head", "iframe", "input",
                    "button", "select", "textarea", "canvas", "object"})) {
      continue;
    }
    const char* name = reinterpret_cast<const char*>(n->name);
    const bool heading = name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && name[2] == '\0';
    if (Is(n, "br")) {
      w.Line();
      continue;
    }
    if (Is(n, "hr")) {
      w.Blank();
      w.Raw("---");
      w.Blank();
      continue;
    }
    if (Is(n, "img")) {
      if (std::string alt = Attribute(n, "alt"); !alt.empty()) w.Text("[image: " + alt + "]", false);
      continue;
    }
    if (heading) {
      w.Blank();
      w.Raw(std::string(static_cast<size_t>(name[1] - '0'), '#') + " ");
      Walk(n->children, w, pre, title);
      w.Blank();
      continue;
    }
    if (Is(n, "li")) {
      w.Line();
      w.Raw("- ");
      Walk(n->children, w, pre, title);
      w.Line();
      continue;
    }
    if (Is(n, "pre")) {
      w.Blank();
      w.Raw("```\n");
      Walk(n->children, w, true, title);
      w.Line();
      w.Raw("```");
      w.Blank();
      continue;
    }
    if (Is(n, "a")) {
      const size_t before = w.size();
      Walk(n->children, w, pre, title);
      const std::string href = Attribute(n, "href");
      if (!href.empty() && w.size() > before && !href.starts_with("#") &&
          !href.starts_with("javascript:")) {
        w.Raw(" (" + w.Link(href) + ")");
      }
      continue;
    }
    if (IsAnyOf(n, {"td", "th"})) {
      Walk(n->children, w, pre, title);
      w.Raw(" | ");
      continue;
    }
    const bool block =
        IsAnyOf(n, {"p", "div", "section", "article", "main", "header", "footer", "nav", "aside",
                    "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "figure",
                    "figcaption", "form", "fieldset", "details", "summary", "address", "body"});
    if (block) w.Blank();
    Walk(n->children, w, pre, title);
    if (block) {
      if (Is(n, "tr")) {
        w.Line();
      } else {
        w.Blank();
      }
    }
  }
}

}  // namespace

PageText HtmlToText(std::string_view html, std::string_view base_url) {
  PageText page;
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                      HTML_PARSE_NONET | HTML_PARSE_NOBLANKS | HTML_PARSE_COMPACT;
  std::unique_ptr<xmlDoc, void (*)(xmlDoc*)> doc(
      htmlReadMemory(html.data(), static_cast<int>(html.size()),
                     std::string(base_url).c_str(), nullptr, options),
      xmlFreeDoc);
  if (!doc) return page;
  TextWriter w{std::string(base_url)};
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root != nullptr) {
    // <title> sits in <head>, which the walk skips: read it first.
    for (const xmlNode* n = root->children; n != nullptr; n = n->next) {
      if (n->type == XML_ELEMENT_NODE && Is(n, "head")) {
        for (const xmlNode* h = n->children; h != nullptr; h = h->next) {
          if (h->type == XML_ELEMENT_NODE && Is(h, "title")) Walk(h, w, false, &page.title);
        }
      }
    }
    Walk(root, w, false, &page.title);
  }
  page.text = w.Take();
  return page;
}

}  // namespace troupe
