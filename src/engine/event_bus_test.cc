#include "engine/event_bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace troupe {
namespace {

TEST(EventBusTest, DeliversToEverySubscriberInSubscriptionOrder) {
  EventBus bus;
  std::vector<int> seen;
  bus.Subscribe([&](const EngineEvent& e) { seen.push_back(1 * 100 + static_cast<int>(e.id)); });
  bus.Subscribe([&](const EngineEvent& e) { seen.push_back(2 * 100 + static_cast<int>(e.id)); });
  EngineEvent e;
  e.id = 7;
  bus.Publish(e);
  EXPECT_EQ(seen, (std::vector<int>{107, 207}));
}

TEST(EventBusTest, SubscribersMayUnsubscribeThemselvesAndOthersWhilePublishing) {
  EventBus bus;
  int a = 0, b = 0, c = 0;
  EventBus::SubscriptionId ida = 0, idb = 0;
  ida = bus.Subscribe([&](const EngineEvent&) {
    ++a;
    bus.Unsubscribe(ida);
    bus.Unsubscribe(idb);
  });
  idb = bus.Subscribe([&](const EngineEvent&) { ++b; });
  bus.Subscribe([&](const EngineEvent&) {
    ++c;
    bus.Subscribe([&](const EngineEvent&) { ++c; });  // sees only later events
  });
  bus.Publish({});
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(c, 1);
  bus.Publish({});
  EXPECT_EQ(a, 1);
  EXPECT_EQ(c, 3);  // the original one again, plus the one it added the first time
  EXPECT_EQ(bus.subscribers(), 3u);
}

}  // namespace
}  // namespace troupe
