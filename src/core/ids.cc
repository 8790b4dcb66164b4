#include "core/ids.h"

namespace troupe {
namespace {

constexpr char kAlphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr int kTimeChars = 10;
constexpr int kTailChars = 8;
constexpr uint64_t kTailMask = (uint64_t{1} << 40) - 1;

void AppendBase32(std::string& out, uint64_t value, int chars) {
  for (int i = chars - 1; i >= 0; --i) out.push_back(kAlphabet[(value >> (5 * i)) & 31]);
}

}  // namespace

IdGenerator::IdGenerator(const Clock* clock, uint64_t seed)
    : clock_(clock), rng_(seed != 0 ? seed : std::random_device{}()) {}

std::string IdGenerator::Next(std::string_view prefix) {
  int64_t ms = clock_->WallMs();
  if (ms <= last_ms_) {
    // Same (or an earlier, if the wall clock stepped back) millisecond: keep order by counting up.
    ms = last_ms_;
    last_tail_ = (last_tail_ + 1) & kTailMask;
    if (last_tail_ == 0) ms = ++last_ms_;  // 2^40 ids in one ms: borrow the next millisecond.
  } else {
    // Leave headroom below the mask so a burst in this millisecond does not wrap.
    last_tail_ = rng_() & (kTailMask >> 1);
  }
  last_ms_ = ms;
  std::string id;
  id.reserve(prefix.size() + kTimeChars + kTailChars);
  id.append(prefix);
  AppendBase32(id, static_cast<uint64_t>(ms), kTimeChars);
  AppendBase32(id, last_tail_, kTailChars);
  return id;
}

bool IsWellFormedId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + kTimeChars + kTailChars) return false;
  if (id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size())) {
    if (std::string_view(kAlphabet).find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace troupe
