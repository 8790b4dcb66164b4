// A queue that takes turns between owners: items of one owner leave in the order they came, and
// owners with waiting items are served one item each in rotation, so one owner with a hundred
// queued items delays another's first item by at most one item of its own. Not thread-safe; the
// executor that uses it holds its lock.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace troupe {

template <typename T>
class FairQueue {
 public:
  void Push(const std::string& owner, T item) {
    std::deque<T>& items = by_owner_[owner];
    if (items.empty()) turns_.push_back(owner);
    items.push_back(std::move(item));
    ++size_;
  }

  // The oldest item of the owner whose turn it is; that owner goes to the back of the rotation
  // when it has more. nullopt when empty.
  std::optional<T> Pop() {
    if (turns_.empty()) return std::nullopt;
    std::string owner = std::move(turns_.front());
    turns_.pop_front();
    auto it = by_owner_.find(owner);
    T item = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) {
      by_owner_.erase(it);
    } else {
      turns_.push_back(std::move(owner));
    }
    --size_;
    return item;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void Clear() {
    by_owner_.clear();
    turns_.clear();
    size_ = 0;
  }

 private:
  std::map<std::string, std::deque<T>> by_owner_;  // owners with at least one item
  std::deque<std::string> turns_;                  // each of them once, next first
  size_t size_ = 0;
};

}  // namespace troupe
