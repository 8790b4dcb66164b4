#include "core/secret_redactor.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(SecretRedactorTest, ReplacesEveryOccurrence) {
  SecretRedactor r({"sk-live-0123456789", "tok-abcdefgh"});
  EXPECT_EQ(r.Redact("key=sk-live-0123456789 again sk-live-0123456789; token tok-abcdefgh"),
            "key=[redacted] again [redacted]; token [redacted]");
  EXPECT_EQ(r.Redact("nothing here"), "nothing here");
}

TEST(SecretRedactorTest, ShortAndBlankValuesAreNotSecrets) {
  SecretRedactor r({"abc", "  ", ""});
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.Redact("abc"), "abc");
}

TEST(SecretRedactorTest, TrimsAndPrefersTheLongestSecret) {
  SecretRedactor r;
  r.Add("secret-12");
  r.Add(" secret-12345 \n");
  EXPECT_EQ(r.Redact("secret-12345 secret-12"), "[redacted] [redacted]");
}

}  // namespace
}  // namespace troupe
