#include "cli/table.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(DisplayWidthTest, CountsColumnsNotBytes) {
  EXPECT_EQ(DisplayWidth(""), 0);
  EXPECT_EQ(DisplayWidth("abc"), 3);
  EXPECT_EQ(DisplayWidth("héllo"), 5);      // é is two bytes, one column
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1);  // e + combining acute accent
  EXPECT_EQ(DisplayWidth("日本"), 4);       // wide characters
  EXPECT_EQ(DisplayWidth("🚀"), 2);
  EXPECT_EQ(DisplayWidth("…"), 1);
  EXPECT_EQ(DisplayWidth("\xFF\xFE"), 2);  // invalid bytes count one each
  EXPECT_EQ(DisplayWidth("\xE6\x97"), 2);  // a cut multi-byte character
}

TEST(CutToWidthTest, KeepsWhatFitsAndMarksTheCut) {
  EXPECT_EQ(CutToWidth("short", 10), "short");
  EXPECT_EQ(CutToWidth("exactly", 7), "exactly");
  EXPECT_EQ(CutToWidth("too long text", 8), "too lon…");
  EXPECT_EQ(CutToWidth("too long", 5), "too…");  // no blank before the ellipsis
  EXPECT_EQ(CutToWidth("abc", 1), "…");
  EXPECT_EQ(CutToWidth("abc", 0), "");
}

TEST(CutToWidthTest, NeverSplitsACharacter) {
  EXPECT_EQ(CutToWidth("日本語テキスト", 7), "日本語…");  // 6 columns + ellipsis
  EXPECT_EQ(CutToWidth("日本語テキスト", 6), "日本…");    // 語 would need 2 more
  EXPECT_EQ(CutToWidth("héllo wörld", 6), "héllo…");
  // A combining mark stays with its letter.
  EXPECT_EQ(CutToWidth("e\xCC\x81tude", 3), "e\xCC\x81t…");
}

TEST(OneLineTest, ReplacesControlCharacters) {
  EXPECT_EQ(OneLine("a\nb\tc\x1b[31md\x7f"), "a b c [31md ");
  EXPECT_EQ(OneLine("日本"), "日本");
}

TEST(PaintTest, WrapsOnlyWhenEnabled) {
  EXPECT_EQ(Paint("ok", "32", true), "\x1b[32mok\x1b[0m");
  EXPECT_EQ(Paint("ok", "32", false), "ok");
  EXPECT_EQ(Paint("ok", "", true), "ok");
}

TEST(RenderTableTest, ColumnsAsWideAsTheirContent) {
  const std::vector<TableColumn> columns = {{"ID"}, {"N", Align::kRight}, {"NOTE"}};
  const std::vector<std::vector<TableCell>> rows = {{"a", "1", "first"},
                                                    {"bbbb", "100", "second row"}};
  EXPECT_EQ(RenderTable(columns, rows, {}),
            "ID      N  NOTE\n"
            "a       1  first\n"
            "bbbb  100  second row\n");
}

TEST(RenderTableTest, EmptyTrailingCellsAddNoBlanks) {
  const std::vector<TableColumn> columns = {{"A"}, {"B"}};
  EXPECT_EQ(RenderTable(columns, {{"x", ""}, {"yyy", "z"}}, {}),
            "A    B\n"
            "x\n"
            "yyy  z\n");
}

TEST(RenderTableTest, ShrinksTheFlexibleColumnToTheWidth) {
  const std::vector<TableColumn> columns = {{"ID"}, {"DESCRIPTION", Align::kLeft, true, 8}};
  const std::vector<std::vector<TableCell>> rows = {
      {"bg_1", "Map the source tree and list every module"}, {"bg_2", "short"}};
  TableOptions options;
  options.max_width = 26;
  EXPECT_EQ(RenderTable(columns, rows, options),
            "ID    DESCRIPTION\n"
            "bg_1  Map the source tree…\n"
            "bg_2  short\n");
}

TEST(RenderTableTest, ShrinkingStopsAtTheMinimum) {
  const std::vector<TableColumn> columns = {{"ID"}, {"D", Align::kLeft, true, 5}};
  TableOptions options;
  options.max_width = 4;
  EXPECT_EQ(RenderTable(columns, {{"bg_1", "abcdefghij"}}, options),
            "ID    D\n"
            "bg_1  abcd…\n");
}

TEST(RenderTableTest, PadsByDisplayWidth) {
  const std::vector<TableColumn> columns = {{"NAME"}, {"X"}};
  EXPECT_EQ(RenderTable(columns, {{"日本", "1"}, {"é", "2"}}, {}),
            "NAME  X\n"
            "日本  1\n"
            "é     2\n");
}

TEST(RenderTableTest, ColoursCellsWithoutBreakingAlignment) {
  const std::vector<TableColumn> columns = {{"STATE"}, {"ID"}};
  TableOptions options;
  options.color = true;
  EXPECT_EQ(RenderTable(columns, {{TableCell("ok", "32"), "bg_1"}}, options),
            "\x1b[1mSTATE\x1b[0m  \x1b[1mID\x1b[0m\n"
            "\x1b[32mok\x1b[0m     bg_1\n");
}

TEST(RenderTableTest, CellsWithNewlinesStayOnOneLine) {
  const std::vector<TableColumn> columns = {{"A"}};
  EXPECT_EQ(RenderTable(columns, {{"two\nlines"}}, {}), "A\ntwo lines\n");
}

}  // namespace
}  // namespace troupe
