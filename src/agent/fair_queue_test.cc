#include "agent/fair_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe {
namespace {

std::vector<std::string> Drain(FairQueue<std::string>& q) {
  std::vector<std::string> out;
  while (std::optional<std::string> item = q.Pop()) out.push_back(*item);
  return out;
}

TEST(FairQueueTest, OneOwnerKeepsItsOrder) {
  FairQueue<std::string> q;
  for (const char* s : {"a1", "a2", "a3"}) q.Push("a", s);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.Pop().has_value());
}

TEST(FairQueueTest, OwnersTakeTurnsWhateverHowManyEachQueued) {
  FairQueue<std::string> q;
  for (int i = 1; i <= 5; ++i) q.Push("busy", "b" + std::to_string(i));
  q.Push("quiet", "q1");
  q.Push("other", "o1");
  q.Push("other", "o2");
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"b1", "q1", "o1", "b2", "o2", "b3", "b4", "b5"}));
}

TEST(FairQueueTest, AnOwnerThatEmptiedRejoinsAtTheBack) {
  FairQueue<std::string> q;
  q.Push("a", "a1");
  q.Push("b", "b1");
  q.Push("b", "b2");
  EXPECT_EQ(*q.Pop(), "a1");  // a has nothing left and leaves the rotation
  q.Push("a", "a2");          // and rejoins behind b
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"b1", "a2", "b2"}));
}

TEST(FairQueueTest, ClearDropsEverything) {
  FairQueue<std::string> q;
  q.Push("a", "a1");
  q.Push("b", "b1");
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.Pop().has_value());
  q.Push("b", "b2");
  EXPECT_EQ(Drain(q), (std::vector<std::string>{"b2"}));
}

}  // namespace
}  // namespace troupe
