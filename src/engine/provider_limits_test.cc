#include "engine/provider_limits.h"

#include <gtest/gtest.h>

#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

class ProviderLimitsTest : public EngineTest {};

TEST_F(ProviderLimitsTest, CooldownReportedUnderTheConfiguredNameHoldsTheCanonicalPool) {
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build();
  ProviderLimits limits(manager_.get(), &clock_);
  limits.OnProviderCooldown("OpenRouter", 1500);
  auto held = manager_->Launch(Req("x", "openrouter/some-model"));
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->task.state, TaskState::kPending);
  EXPECT_NE(held->waiting_reason.find("cooling down"), std::string::npos);
  clock_.AdvanceMs(1500);
  EXPECT_EQ(StateOf(held->task.id), TaskState::kRunning);
  ASSERT_EQ(limits.providers().count("openrouter"), 1u);
  EXPECT_EQ(limits.providers().at("openrouter").cooldowns, 1);
  EXPECT_EQ(limits.providers().at("openrouter").last_cooldown_ms, 1500);
}

TEST_F(ProviderLimitsTest, KeepsTheLatestAnnouncedLimits) {
  Build();
  ProviderLimits limits(manager_.get(), &clock_);
  RateLimitInfo first;
  first.requests.remaining = 10;
  limits.OnRateLimitInfo("anthropic", first);
  clock_.AdvanceMs(5);
  RateLimitInfo second;
  second.requests.remaining = 9;
  limits.OnRateLimitInfo("Anthropic", second);
  ASSERT_EQ(limits.providers().size(), 1u);
  const ProviderLimitsView& view = limits.providers().at("anthropic");
  EXPECT_EQ(view.info.requests.remaining, 9);
  EXPECT_EQ(view.updated_wall_ms, clock_.WallMs());
  EXPECT_EQ(view.cooldowns, 0);
}

}  // namespace
}  // namespace troupe
