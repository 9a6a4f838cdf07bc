// outbox: the sends an actor makes during one on_message() call of the synchronous fast path,
// gathered in order and delivered when the call returns (or every kFlushAt sends). A run of
// consecutive sends to one target goes into its mailbox under one lock (endpoint::deliver_some),
// so eight actors bursting into one (fan-in) take the sink's mailbox lock, and move its cache
// lines between threads, once per run instead of once per message.
//
// Not thread-safe: the gathering thread alone touches its own outbox (gather_area::own); the
// actor's other threads, which may send meanwhile and must queue behind it, use the second
// one (gather_area::foreign) under the cell's out_lock_.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>
#include <vector>

#include "core/endpoint.hpp"
#include "core/envelope.hpp"

namespace thespian::detail {

class outbox {
 public:
  // Enough to make the lock's cost per message small, few enough that the target starts on
  // a burst soon (and that the gathered envelopes stay in cache).
  static constexpr std::size_t kFlushAt = 64;

  bool empty() const noexcept { return items_.empty(); }
  std::size_t size() const noexcept { return items_.size(); }

  // Appends; true when it holds kFlushAt envelopes and should be flushed.
  bool add(const ActorAddress& to, envelope&& e) {
    if (runs_.empty() || runs_.back().to.endpoint() != to.endpoint()) {
      runs_.push_back(run{to, items_.size()});
    }
    items_.push_back(std::move(e));
    return items_.size() >= kFlushAt;
  }

  // Delivers everything in order and empties the outbox. `dead_letter(to, envelope&&)` gets
  // what a target refused.
  template <class DeadLetter>
  void flush(DeadLetter&& dead_letter) {
    struct clear_at_exit {
      outbox& box;
      ~clear_at_exit() {
        box.items_.clear();
        box.runs_.clear();
      }
    } clear{*this};
    for (std::size_t r = 0; r < runs_.size(); ++r) {
      std::size_t begin = runs_[r].begin;
      const std::size_t end = r + 1 < runs_.size() ? runs_[r + 1].begin : items_.size();
      endpoint* target = runs_[r].to.endpoint();
      while (begin < end) {
        begin += target->deliver_some(items_.data() + begin, end - begin);
        if (begin < end) dead_letter(runs_[r].to, std::move(items_[begin++]));
      }
    }
  }

 private:
  struct run {
    ActorAddress to;
    std::size_t begin;  // index of its first envelope in items_
  };
  std::vector<envelope> items_;
  std::vector<run> runs_;
};

// Where the on_message() call running on a thread gathers: its own sends, added by that thread
// alone and without a lock (one atomic exchange fewer per gathered message), and the sends the
// actor's other threads make meanwhile, under the gathering cell's out_lock_. The thread
// delivers its own first and then the others' at each flush, and flushes before it adds one
// while others are waiting (has_foreign): a send of another thread that happened before one
// of the thread's own (the user synchronised the two) is delivered before it, and one that
// happened after a gathered send is delivered after it.
struct gather_area {
  outbox own;
  outbox foreign;  // under the gathering cell's out_lock_
  std::atomic<bool> has_foreign{false};
};

// Delivers what the on_message() call running on this thread has gathered, if any. Called
// before the thread blocks (a blocking call from inside an actor): what it waits for may
// need those messages.
void flush_gathered_sends_here() noexcept;

}  // namespace thespian::detail
