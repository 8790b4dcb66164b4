#include "agent/tools/todo_tools.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

class FakeTodoList : public TodoList {
 public:
  Result<std::vector<TodoItem>> Get() override { return items; }
  Status Replace(const std::vector<TodoItem>& new_items) override {
    ++replaced;
    if (!fail_with.ok()) return fail_with;
    items = new_items;
    return Status::Ok();
  }

  std::vector<TodoItem> items;
  int replaced = 0;
  Status fail_with;
};

class TodoToolsTest : public testing::ToolTest {
 protected:
  TodoToolsTest() { context_.todos = &todos_; }

  FakeTodoList todos_;
  TodoWriteTool write_;
  TodoReadTool read_;
};

TEST_F(TodoToolsTest, WriteReplacesTheListAndShowsIt) {
  ToolResult r = RunTool(
      write_, {{"todos",
                {{{"content", "Find the parser"}, {"status", "completed"}, {"priority", "high"}},
                 {{"id", "b"}, {"content", "Fix the bug"}, {"status", "in_progress"}},
                 {{"id", 7}, {"content", "Add a test"}, {"status", "pending"}}}}});
  EXPECT_FALSE(r.is_error) << r.content;
  ASSERT_EQ(todos_.items.size(), 3u);
  EXPECT_EQ(todos_.items[0].id, "1");
  EXPECT_EQ(todos_.items[0].priority, "high");
  EXPECT_EQ(todos_.items[1].id, "b");
  EXPECT_EQ(todos_.items[1].priority, "medium");
  EXPECT_EQ(todos_.items[2].id, "7");
  EXPECT_EQ(r.content,
            "Todo list: 3 items (1 completed, 1 in progress, 1 pending)\n"
            "- [completed] Find the parser (id 1, high)\n"
            "- [in_progress] Fix the bug (id b, medium)\n"
            "- [pending] Add a test (id 7, medium)\n");
  EXPECT_EQ(RunTool(read_, json::object()).content, r.content);
}

TEST_F(TodoToolsTest, AnEmptyList) {
  todos_.items = {{"1", "old", "pending", "low"}};
  ToolResult r = RunTool(write_, {{"todos", json::array()}});
  EXPECT_EQ(r.content, "The todo list is empty.");
  EXPECT_TRUE(todos_.items.empty());
}

TEST_F(TodoToolsTest, WriteValidatesEveryItem) {
  EXPECT_EQ(RunTool(write_, json::object()).content,
            "todo_write: `todos` is required (the complete list: an array of {content, status})");
  EXPECT_THAT(RunTool(write_, {{"todos", "do it"}}).content, HasSubstr("`todos` must be an array"));
  EXPECT_EQ(RunTool(write_, {{"todos",
                              {{{"content", "a"}, {"status", "pending"}},
                               {{"content", "b"}, {"status", "done"}}}}})
                .content,
            "todo_write: `todos[1].status` must be one of pending, in_progress, completed, "
            "cancelled (got a string (\"done\"))");
  EXPECT_THAT(RunTool(write_, {{"todos", {{{"status", "pending"}}}}}).content,
              HasSubstr("`todos[0].content` must be a non-empty string (got nothing)"));
  EXPECT_THAT(
      RunTool(write_, {{"todos", {{{"content", "a"}, {"status", "pending"}, {"priority", "p0"}}}}})
          .content,
      HasSubstr("`todos[0].priority` must be one of high, medium, low"));
  EXPECT_THAT(RunTool(write_, {{"todos",
                                {{{"id", "x"}, {"content", "a"}, {"status", "pending"}},
                                 {{"id", "x"}, {"content", "b"}, {"status", "pending"}}}}})
                  .content,
              HasSubstr("`todos[1].id` \"x\" is used by another item"));
  EXPECT_THAT(
      RunTool(write_, {{"todos", {{{"content", "a"}, {"status", "pending"}, {"owner", "me"}}}}})
          .content,
      HasSubstr("`todos[0]`: unknown argument `owner`"));
  EXPECT_EQ(todos_.replaced, 0);
}

TEST_F(TodoToolsTest, StoreFailuresAndMissingListsAreToolErrors) {
  todos_.fail_with = Status::IoError("disk full");
  ToolResult r = RunTool(write_, {{"todos", {{{"content", "a"}, {"status", "pending"}}}}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.content, "todo_write: could not save the todo list: disk full");
  context_.todos = nullptr;
  EXPECT_EQ(RunTool(write_, {{"todos", json::array()}}).content,
            "todo_write: this session has no todo list");
  EXPECT_EQ(RunTool(read_, json::object()).content, "todo_read: this session has no todo list");
  EXPECT_THAT(RunTool(read_, {{"x", 1}}).content, HasSubstr("unknown argument `x`"));
}

}  // namespace
}  // namespace troupe
