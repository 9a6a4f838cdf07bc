// mail_queue: an actor's mailbox storage, a chain of chunks of envelopes. Envelopes are built
// in place and never moved until they are taken, so a mailbox that grows to many thousands
// of messages (eight senders bursting into one actor) never reallocates or copies, and never
// holds the mailbox lock across a large copy and the page faults of fresh memory. Chunks grow
// from 2 to 20 envelopes (a busy actor's start at 20), so an actor with a message or two pays
// one small allocation. The
// receiver takes the whole chain under the lock in one swap; one emptied chunk goes back to the
// emptied queue (adopt) for the senders' next messages, so a busy actor allocates nothing per
// message.
//
// Not thread-safe: actor_cell guards its incoming queue and spare with its mailbox lock, and
// its batch is touched by the receiving thread only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <new>
#include <utility>

#include "core/envelope.hpp"
#include "thespian/detail/small_pool.hpp"

namespace thespian::detail {

struct mail_chunk {
  static constexpr std::uint32_t kFirst = 2;
  // 20 envelopes + header = 824 bytes: a small-bin request. A larger one (1 KiB and up) makes
  // glibc consolidate its fastbins first, on every chunk (+100 instructions a message in
  // fan-in, where the receiver frees payloads in bulk).
  static constexpr std::uint32_t kLargest = 20;

  mail_chunk* next;
  std::uint32_t capacity;
  std::uint32_t begin;  // [begin, end) are live envelopes
  std::uint32_t end;

  envelope* items() noexcept { return std::launder(reinterpret_cast<envelope*>(this + 1)); }

  static std::size_t bytes(std::uint32_t capacity) noexcept {
    return sizeof(mail_chunk) + capacity * sizeof(envelope);
  }
  static mail_chunk* make(std::uint32_t capacity) {
    void* memory = small_allocate(bytes(capacity));
    return new (memory) mail_chunk{nullptr, capacity, 0, 0};
  }
  // Frees an emptied chunk.
  static void release(mail_chunk* c) noexcept { small_deallocate(c, bytes(c->capacity)); }
  // Destroys what is left in `c` (may be null) and frees it.
  static void destroy(mail_chunk* c) noexcept {
    if (!c) return;
    for (std::uint32_t i = c->begin; i < c->end; ++i) c->items()[i].~envelope();
    release(c);
  }
};
static_assert(sizeof(mail_chunk) % alignof(envelope) == 0);

class mail_queue {
  static constexpr std::uint32_t kAhead = 8;  // envelopes (48 bytes each)

 public:
  mail_queue() noexcept = default;
  mail_queue(const mail_queue&) = delete;
  mail_queue& operator=(const mail_queue&) = delete;
  ~mail_queue() { clear(); }

  bool empty() const noexcept {
    return !head_ || (head_->begin == head_->end && !head_->next);
  }
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const mail_chunk* c = head_; c; c = c->next) n += c->end - c->begin;
    return n;
  }
  void swap(mail_queue& other) noexcept {
    std::swap(head_, other.head_);
    std::swap(tail_, other.tail_);
  }

  // Appends; a new chunk holds `first` envelopes when the queue has none, else four times the
  // last one's.
  void push_back(envelope&& e, std::uint32_t first = mail_chunk::kFirst) {
    if (!tail_ || tail_->end == tail_->capacity) {
      mail_chunk* c =
          mail_chunk::make(tail_ ? std::min(tail_->capacity * 4, mail_chunk::kLargest) : first);
      if (tail_) {
        tail_->next = c;
      } else {
        head_ = c;
      }
      tail_ = c;
    }
    new (tail_->items() + tail_->end) envelope(std::move(e));
    ++tail_->end;
  }

  // Takes the first envelope; false when there is none. An emptied chunk is freed unless it
  // is the last one (see take_exhausted).
  bool pop(envelope& out) {
    while (head_) {
      if (head_->begin != head_->end) {
        prefetch_ahead();
        // Moved from, `first` owns nothing (an empty Message and ActorAddress): its lifetime
        // ends without a destructor call that would find nothing to release.
        out = std::move(head_->items()[head_->begin]);
        ++head_->begin;
        return true;
      }
      if (!head_->next) return false;
      mail_chunk* done = head_;
      head_ = head_->next;
      mail_chunk::release(done);  // emptied: nothing left to destroy
    }
    return false;
  }

  // When everything was taken: the last, emptied chunk (reset for reuse), leaving the queue
  // without any; otherwise nullptr.
  mail_chunk* take_exhausted() noexcept {
    if (!head_ || head_->begin != head_->end || head_->next) return nullptr;
    mail_chunk* c = head_;
    head_ = tail_ = nullptr;
    c->begin = c->end = 0;
    return c;
  }

  // The queue has no chunk: `c` (emptied, as take_exhausted leaves it) becomes its only one,
  // where the next pushes go without an allocation.
  void adopt(mail_chunk* c) noexcept { head_ = tail_ = c; }
  bool has_chunk() const noexcept { return head_ != nullptr; }

  // A receiver's batch was most often written by senders on other threads: ask for the
  // envelopes a few places ahead, and for the payload of a nearer one, before they are
  // needed (reading them on demand was most of fan-in's receiving cost).
  void prefetch_ahead() const noexcept {
    const std::uint32_t i = head_->begin;
    if (i + kAhead < head_->end) {
      prefetch_line(head_->items() + i + kAhead);
    } else if (head_->next && i + kAhead == head_->end) {
      prefetch_line(head_->next);
      prefetch_line(reinterpret_cast<const char*>(head_->next) + 64);
    }
    if (i + kAhead / 2 < head_->end) {
      if (const void* p = head_->items()[i + kAhead / 2].message.payload()) {
        // A heap payload: its header (type, count) and the value behind it. A local value's
        // box is a type's static descriptor, already in cache.
        prefetch_line(p);
        prefetch_line(static_cast<const char*>(p) + 32);
      }
    }
  }
  // An asm statement, not __builtin_prefetch: g++ 12 dropped the builtin's prefetches here.
  static void prefetch_line(const void* p) noexcept {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
  }

  void clear() noexcept {
    while (head_) {
      mail_chunk* c = head_;
      head_ = c->next;
      mail_chunk::destroy(c);
    }
    tail_ = nullptr;
  }

 private:
  mail_chunk* head_ = nullptr;
  mail_chunk* tail_ = nullptr;
};

}  // namespace thespian::detail
