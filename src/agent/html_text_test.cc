#include "agent/html_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HtmlTextTest, HeadingsParagraphsListsLinksAndNoScript) {
  const PageText page = HtmlToText(R"(<!doctype html><html><head><title>Retry  policy</title>
    <style>p { color: red }</style><script>var secret = 1;</script></head>
    <body><nav><a href="#top">skip</a></nav>
    <h1>Retries</h1><p>The client   retries
       <b>429</b> and <a href="/docs/backoff.html">backs off</a>.</p>
    <ul><li>first</li><li>second</li></ul>
    <pre>line 1
  line 2</pre>
    <table><tr><th>code</th><th>retry</th></tr><tr><td>429</td><td>yes</td></tr></table>
    </body></html>)",
                                   "https://example.test/guide/index.html");
  EXPECT_EQ(page.title, "Retry policy");
  EXPECT_THAT(page.text, HasSubstr("# Retries\n\nThe client retries 429 and backs off "
                                   "(https://example.test/docs/backoff.html)."));
  EXPECT_THAT(page.text, HasSubstr("- first\n- second"));
  EXPECT_THAT(page.text, HasSubstr("```\nline 1\n  line 2\n```"));
  EXPECT_THAT(page.text, HasSubstr("code | retry |"));
  EXPECT_THAT(page.text, Not(HasSubstr("secret")));
  EXPECT_THAT(page.text, Not(HasSubstr("color")));
  EXPECT_THAT(page.text, Not(HasSubstr("#top")));
}

TEST(HtmlTextTest, TagSoupStillReads) {
  const PageText page = HtmlToText("<p>one<p>two<div>three</span>", "");
  EXPECT_EQ(page.text, "one\n\ntwo\n\nthree");
  EXPECT_EQ(HtmlToText("", "").text, "");
}

}  // namespace
}  // namespace troupe
