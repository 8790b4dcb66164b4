#include "dashboard/login_codes.h"

#include <gtest/gtest.h>

#include <string>

#include "core/fake_clock.h"
#include "dashboard/random_secret.h"

namespace troupe {
namespace {

TEST(RandomSecretTest, IsBase64UrlOf32RandomBytes) {
  const std::string a = RandomSecret();
  const std::string b = RandomSecret();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_TRUE(LooksLikeSecret(a));
  EXPECT_NE(a, b);
  EXPECT_FALSE(LooksLikeSecret(a.substr(1)));
  EXPECT_FALSE(LooksLikeSecret(std::string(42, 'a') + "+"));
}

TEST(RandomSecretTest, Sha256HexIsTheStandardDigest) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(LoginCodesTest, ACodeWorksOnce) {
  FakeClock clock;
  LoginCodes codes(&clock, RandomSecret);
  LoginCode code = codes.Mint();
  EXPECT_EQ(code.expires_at_ms, clock.WallMs() + 120'000);
  EXPECT_TRUE(LooksLikeSecret(code.code));
  EXPECT_FALSE(codes.Redeem("not-a-code"));
  EXPECT_TRUE(codes.Redeem(code.code));
  EXPECT_FALSE(codes.Redeem(code.code));
}

TEST(LoginCodesTest, ACodeExpiresAfterTwoMinutes) {
  FakeClock clock;
  LoginCodes codes(&clock, RandomSecret);
  LoginCode early = codes.Mint();
  LoginCode late = codes.Mint();
  clock.AdvanceMs(119'999);
  EXPECT_TRUE(codes.Redeem(early.code));
  clock.AdvanceMs(1);
  EXPECT_FALSE(codes.Redeem(late.code));
  EXPECT_EQ(codes.outstanding(), 0u);
}

TEST(LoginCodesTest, MintingPastTheCapForgetsTheOldest) {
  FakeClock clock;
  int n = 0;
  LoginCodes codes(&clock, [&n] { return "code-" + std::to_string(n++); }, 120'000, 2);
  LoginCode first = codes.Mint();
  clock.AdvanceMs(1);
  LoginCode second = codes.Mint();
  clock.AdvanceMs(1);
  LoginCode third = codes.Mint();
  EXPECT_EQ(codes.outstanding(), 2u);
  EXPECT_FALSE(codes.Redeem(first.code));
  EXPECT_TRUE(codes.Redeem(second.code));
  EXPECT_TRUE(codes.Redeem(third.code));
}

}  // namespace
}  // namespace troupe
