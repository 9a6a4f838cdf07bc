// The outbound queue of one peer, shared by the stream and datagram channels: admission with the
// high/low-water marks and the hard limit, sequence numbers, the single transmit turn (whichever
// thread enqueues may take it, so no send waits behind a receive loop), and the bookkeeping that
// turns ACK, NACK, timeouts and lost connections into exactly one outcome per message.
// Thread-safe; handlers are always called outside its lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "transport/channel.hpp"
#include "transport/transport_settings.hpp"

namespace thespian::transport {

// Handlers collected under the queue's lock and run after it is released.
class pending_notifications {
 public:
  // A handler that throws is reported through settings.report() and the others still run.
  explicit pending_notifications(const transport_settings* settings = nullptr) : settings_(settings) {}
  pending_notifications(pending_notifications&&) = default;
  pending_notifications& operator=(pending_notifications&&) = default;
  ~pending_notifications() { run(); }

  void outcome(outcome_handler h, send_outcome o) { outcomes_.emplace_back(std::move(h), std::move(o)); }
  void admitted(admitted_handler h, std::exception_ptr e) { admitted_.emplace_back(std::move(h), e); }
  void run();

 private:
  std::vector<std::pair<outcome_handler, send_outcome>> outcomes_;
  std::vector<std::pair<admitted_handler, std::exception_ptr>> admitted_;
  const transport_settings* settings_ = nullptr;
};

class outbound_queue {
 public:
  using clock = std::chrono::steady_clock;

  // A frame the transmit turn holder must write; bytes already carry their sequence number.
  struct outgoing {
    std::uint64_t sequence;
    std::string bytes;
  };

  // With batch_while_in_flight, a sender that finds messages already in flight leaves the write
  // to one scheduled flush (schedule_flush), so that a stream of sends leaves in few gathered
  // writes; with nothing in flight it writes at once (write_now), for the lowest latency.
  // first_sequence lets a datagram channel start where an earlier incarnation cannot have been.
  outbound_queue(const transport_settings& settings, std::string peer_name,
                 bool batch_while_in_flight = false, std::uint64_t first_sequence = 1);

  const std::string& peer_name() const noexcept { return peer_; }

  enum class transmit_action {
    none,            // someone else writes it (the turn holder, or a flush already scheduled)
    write_now,       // the caller holds the transmit turn: call next_batch() until it is false
    schedule_flush,  // the caller must arrange one call of begin_flush() on the I/O thread
  };
  // Any thread. Stamps the next sequence number into `bytes` (an encoded frame), then admits or
  // parks it (see channel::submit), and says who writes it.
  admission submit(std::string bytes, outcome_handler on_outcome, admitted_handler on_admitted,
                   transmit_action& action);
  // The scheduled flush: true when the caller now holds the transmit turn.
  bool begin_flush();

  // Takes the transmit turn if the queue has frames to write and a connection, and nobody holds
  // it. The caller then drives next_batch().
  bool try_take_turn();
  // Turn holder: moves every queued frame (at most max_frames) into `out`, marking them in
  // flight. false (and the turn is released) when nothing is left or the connection is down.
  // With keep_copy the queue keeps the bytes for retransmission (datagrams).
  bool next_batch(std::vector<outgoing>& out, std::size_t max_frames, bool keep_copy = false);
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
  std::vector<outgoing> due_for_retransmit(clock::time_point now);

  std::size_t depth() const;          // messages admitted whose outcome is not known yet
  std::size_t parked() const;         // senders waiting for the low-water mark
  bool has_unsent() const;
  bool idle() const;                  // nothing queued, in flight or parked

 private:
  struct entry {
    std::uint64_t sequence;
    outcome_handler on_outcome;  // empty once its outcome was reported (a timeout while in flight)
    clock::time_point deadline;
    std::string bytes;           // unsent: the frame; in flight: kept only for retransmission
    clock::time_point retransmit_at{};
    std::chrono::milliseconds backoff{};
  };
  struct parked_send {
    std::string bytes;
    outcome_handler on_outcome;
    admitted_handler on_admitted;
  };

  void report(entry& e, send_outcome o, pending_notifications& n);
  void admit_parked(pending_notifications& n);
  void enqueue_locked(std::string bytes, outcome_handler on_outcome);
  send_outcome failure(std::string_view what) const;

  const transport_settings& settings_;
  const std::string peer_;
  mutable std::mutex mutex_;
  std::uint64_t next_sequence_ = 1;
  std::deque<entry> unsent_;
  std::deque<entry> in_flight_;
  std::deque<parked_send> parked_;
  std::size_t outstanding_ = 0;  // entries in unsent_ + in_flight_ with a handler
  const bool batch_while_in_flight_;
  bool turn_taken_ = false;
  bool flush_scheduled_ = false;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace thespian::transport
