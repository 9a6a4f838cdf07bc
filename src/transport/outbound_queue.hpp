// The outbound queue of one peer, shared by the stream and datagram channels: admission with the
// high/low-water marks and the hard limit, sequence numbers, the single transmit turn (whichever
// thread enqueues may take it, so no send waits behind a receive loop), and the bookkeeping that
// turns ACK, NACK, timeouts and lost connections into exactly one outcome per message.
// Thread-safe; handlers are always called outside its lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <absl/container/inlined_vector.h>

#include "core/spin_lock.hpp"
#include "transport/channel.hpp"
#include "transport/transport_settings.hpp"

namespace thespian::transport {

// Handlers collected under the queue's lock and run after it is released.
class pending_notifications {
 public:
  // A handler that throws is reported through settings.report() and the others still run.
  explicit pending_notifications(const transport_settings* settings = nullptr) : settings_(settings) {}
  // A moved-from one is empty: a moved-from InlinedVector keeps its inline elements (moved-from,
  // empty handlers), which the destructor's run() would then call.
  pending_notifications(pending_notifications&& other) noexcept
      : outcomes_(std::move(other.outcomes_)), delivered_(std::move(other.delivered_)),
        admitted_(std::move(other.admitted_)), settings_(other.settings_) {
    other.outcomes_.clear();
    other.delivered_.clear();
    other.admitted_.clear();
  }
  pending_notifications& operator=(pending_notifications&&) = delete;
  ~pending_notifications() { run(); }

  void outcome(outcome_handler h, send_outcome o) { outcomes_.emplace_back(std::move(h), std::move(o)); }
  // The common outcome, without a send_outcome stored per message.
  void delivered(outcome_handler h) { delivered_.push_back(std::move(h)); }
  void expect_delivered(std::size_t n) { delivered_.reserve(n); }
  void admitted(admitted_handler h, std::exception_ptr e) { admitted_.emplace_back(std::move(h), e); }
  void run();

 private:
  std::vector<std::pair<outcome_handler, send_outcome>> outcomes_;
  // Inline room for one: a round trip's ACK (one message) allocates nothing here.
  absl::InlinedVector<outcome_handler, 1> delivered_;
  std::vector<std::pair<admitted_handler, std::exception_ptr>> admitted_;
  const transport_settings* settings_ = nullptr;
};

// A growable circular buffer for the queue's entries: push_back and pop_front allocate nothing
// once it has grown (std::deque allocates a block every few of these large entries).
template <class T>
class entry_ring {
 public:
  class iterator {
   public:
    iterator(entry_ring* r, std::size_t i) : ring_(r), i_(i) {}
    T& operator*() const { return (*ring_)[i_]; }
    T* operator->() const { return &(*ring_)[i_]; }
    iterator& operator++() { ++i_; return *this; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
   private:
    entry_ring* ring_;
    std::size_t i_;
  };

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) { return slots_[(head_ + i) & (slots_.size() - 1)]; }
  T& front() { return slots_[head_]; }
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  void push_back(T&& value) {
    reserve_one();
    push_slot() = std::move(value);
  }
  // Room for one more element (may throw); then push_slot() cannot fail.
  void reserve_one() {
    if (size_ == slots_.size()) grow();
  }
  // Appends an element and returns it to be filled in place (it holds a reset or default T).
  // Precondition: reserve_one() since the last push.
  T& push_slot() noexcept {
    T& slot = slots_[(head_ + size_) & (slots_.size() - 1)];
    ++size_;
    return slot;
  }
  void pop_front() {
    T& slot = slots_[head_];
    if constexpr (requires { slot.reset(); }) {
      slot.reset();  // releases the handler and bytes now
    } else {
      slot = T{};
    }
    head_ = (head_ + 1) & (slots_.size() - 1);
    --size_;
  }
  void clear() {
    while (!empty()) pop_front();
  }

 private:
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(16, 2 * slots_.size()));
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_.swap(bigger);
    head_ = 0;
  }
  std::vector<T> slots_;  // a power of two in size
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

class outbound_queue {
 public:
  using clock = std::chrono::steady_clock;

  // How the queue keeps frames. stream: the unsent frames of the peer lie back to back in one
  // buffer that leaves in one write (no allocation per frame); nothing is kept once written.
  // datagram: each frame keeps its own bytes until acknowledged, for retransmission.
  enum class framing { stream, datagram };

  // A datagram the transmit turn holder must send (or resend).
  struct outgoing {
    std::uint64_t sequence;
    std::string bytes;
  };

  // With batch_while_in_flight, a sender that finds messages already in flight leaves the write
  // to one scheduled flush (schedule_flush), so that a stream of sends leaves in few gathered
  // writes; with nothing in flight it writes at once (write_now), for the lowest latency.
  // first_sequence lets a datagram channel start where an earlier incarnation cannot have been.
  outbound_queue(const transport_settings& settings, std::string peer_name, framing how,
                 bool batch_while_in_flight = false, std::uint64_t first_sequence = 1);

  const std::string& peer_name() const noexcept { return peer_; }

  enum class transmit_action {
    none,            // someone else writes it (the turn holder, or a flush already scheduled)
    write_now,       // the caller holds the transmit turn: call next_*batch() until it is false
    schedule_flush,  // the caller must arrange one call of begin_flush() on the I/O thread
    connect,         // nobody can write: there is no connection; the caller sees one is being made
  };
  // Any thread. Copies `frame_bytes` (one encoded frame) into the queue, stamping the next
  // sequence number into its header, then admits or parks it (see channel::submit), and says
  // who writes it.
  // The handlers by rvalue reference: each move of one is an indirect call to its manager, and
  // so is the destruction of the moved-from one (~40 instructions a message by value).
  admission submit(std::string_view frame_bytes, outcome_handler&& on_outcome,
                   admitted_handler&& on_admitted, transmit_action& action);
  // The scheduled flush: true when the caller now holds the transmit turn.
  bool begin_flush();

  // Takes the transmit turn if the queue has frames it may write (a connection, room under
  // max_in_flight), or with `answers_too` answers to write, and nobody holds it. The caller
  // then drives next_*batch().
  bool try_take_turn(bool answers_too = false);
  // Stream framing, a duplex connection: answers (ACK and NACK frames) owed to the peer for
  // data it sent on this connection. They lead the next batch written (so an ACK leaves in the
  // same send as the reply it makes possible); try_take_turn(true) writes them alone. Dropped
  // when the connection goes (they were for it).
  void add_answers(std::string_view bytes);
  // Takes the transmit turn and the owed answers alone (moved into `out`), when there are some
  // and nobody holds the turn: for a channel that closes, whose queued frames must not be
  // written (they fail with the close). The caller writes them, then release_turn().
  bool take_answers(std::string& out);
  // Turn holder, stream framing: replaces `out` with the bytes of the queued frames that the
  // in-flight limit lets go, back to back, and marks them in flight, behind the owed answers.
  // false (and the turn is released) when nothing may be written or the connection is down.
  bool next_stream_batch(std::string& out);
  // Turn holder, datagram framing: replaces the contents of `out` with at most max_frames
  // frames (copies into its existing strings; the queue keeps the bytes for retransmission), as
  // the in-flight limit allows. false as above (and `out` is left as it was).
  bool next_batch(std::vector<outgoing>& out, std::size_t max_frames);
  // Turn holder gives up the turn without writing (e.g. the connection was lost under it).
  void release_turn();

  // The peer acknowledged every in-flight sequence <= upto (cumulative ACK).
  pending_notifications acknowledge_through(std::uint64_t upto);
  // The peer acknowledged exactly this sequence (datagrams: ACKs may arrive in any order).
  pending_notifications acknowledge_one(std::uint64_t sequence);
  pending_notifications refuse(std::uint64_t sequence);  // NACK

  void set_connected(bool connected);
  bool connected() const;
  // Every written, unacknowledged message fails with `reason` (it may or may not have arrived,
  // and it is never sent twice); queued, unwritten ones stay for the next connection.
  pending_notifications connection_lost(const std::string& reason);
  // The peer will never be reachable again: every message whose outcome is not known, parked
  // ones included, gets no_such_target (its sender makes it a dead letter). The queue stays
  // open; later messages wait for a connection as usual.
  pending_notifications peer_gone(const std::string& reason);
  // Messages whose transmit timeout has passed fail.
  pending_notifications expire(clock::time_point now);
  // Everything fails; parked senders get channel_closed; later submits throw channel_closed.
  pending_notifications close(const std::string& reason);

  // Datagrams: in-flight frames whose retransmit time has come (their bytes), and reschedule.
  // Every datagram handed out (here and by next_batch) carries its current datagram window.
  std::vector<outgoing> due_for_retransmit(clock::time_point now);
  // Datagrams: every in-flight frame is due at `now`, its back-off started afresh (the peer
  // was just told to listen: no need to wait out a back-off grown while it was starting).
  void retransmit_from(clock::time_point now);

  std::size_t depth() const;          // messages admitted whose outcome is not known yet
  std::size_t parked() const;         // senders waiting for the low-water mark
  std::size_t in_flight() const;      // messages written and not acknowledged (<= max_in_flight)
  bool has_unsent() const;
  bool idle() const;                  // nothing queued, in flight or parked

 private:
  struct entry {
    std::uint64_t sequence = 0;
    outcome_handler on_outcome;  // empty once its outcome was reported (a timeout while in flight)
    clock::time_point deadline;
    std::size_t size = 0;        // bytes of its frame
    std::string bytes;           // datagrams only: the frame, kept for retransmission
    clock::time_point retransmit_at{};
    std::chrono::milliseconds backoff{};

    // Back to a default entry, keeping nothing (for the ring's reuse of its slot).
    void reset() noexcept {
      on_outcome = nullptr;
      if (!bytes.empty()) std::string().swap(bytes);
      sequence = 0;
      deadline = {};
      size = 0;
      retransmit_at = {};
      backoff = {};
    }
  };
  struct parked_send {
    std::string bytes;
    outcome_handler on_outcome;
    admitted_handler on_admitted;
  };

  void report(entry& e, send_outcome o, pending_notifications& n);
  void report_delivered(entry& e, pending_notifications& n);
  void pop_in_flight_locked();
  void pop_reported_in_flight_locked();
  void admit_parked(pending_notifications& n);
  void enqueue_locked(std::string_view bytes, outcome_handler&& on_outcome);
  bool may_write_locked() const;
  void stamp_window_locked(outgoing& out);
  std::size_t writable_count_locked() const;
  send_outcome failure(std::string_view what) const;

  const transport_settings& settings_;
  const std::string peer_;
  const framing framing_;
  // A spin lock, not a std::mutex: the sending thread holds it for a few hundred instructions
  // per message while the I/O thread takes it several times per batch; with a mutex, a
  // collision put the I/O thread to sleep in futex() and cost a wake-up (and the sender a
  // futex wake in its unlock) on the path the next batch waits on. Its longest sections
  // (an ACK for a window of messages) are a few microseconds.
  mutable detail::spin_lock mutex_;
  std::uint64_t next_sequence_ = 1;
  // Every message whose outcome is not known, oldest first: the first in_flight_ were written
  // (sending marks them by moving the boundary, without moving entries), the rest are unsent.
  entry_ring<entry> entries_;
  std::size_t in_flight_ = 0;
  std::string unsent_bytes_;        // stream framing: the unsent entries' frames from unsent_offset_ on
  std::size_t unsent_offset_ = 0;
  std::string answers_;             // stream framing, duplex: ACK/NACK frames owed to the peer
  std::deque<parked_send> parked_;
  std::size_t outstanding_ = 0;  // entries with a handler (not reported yet)
  const bool batch_while_in_flight_;
  bool turn_taken_ = false;
  bool flush_scheduled_ = false;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace thespian::transport
