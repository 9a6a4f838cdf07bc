// Outbound queue bookkeeping (see outbound_queue.hpp), plus the small vocabulary of channel.hpp.
#include "transport/outbound_queue.hpp"

#include <time.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <limits>

#include <absl/strings/str_format.h>

namespace thespian::transport {

std::string_view to_string(send_status status) noexcept {
  switch (status) {
    case send_status::delivered: return "delivered";
    case send_status::no_such_target: return "no such target";
    case send_status::failed: return "failed";
  }
  return "unknown";
}

outbound_queue_full::outbound_queue_full(std::string_view peer, std::size_t depth,
                                         std::size_t limit)
    : ActorSystemException(absl::StrFormat(
          "outbound queue to %s is full: %d messages await their outcome, the hard limit is %d "
          "(THESPIAN_QUEUE_HARD_LIMIT)",
          peer, depth, limit)) {}

void pending_notifications::run() {
  // Handlers may submit again (which may notify again): take the lists first.
  auto outcomes = std::move(outcomes_);
  auto delivered = std::move(delivered_);
  auto admitted = std::move(admitted_);
  outcomes_.clear();
  delivered_.clear();
  admitted_.clear();
  auto guarded = [this](auto&& call) {
    try {
      call();
    } catch (const std::exception& e) {
      if (settings_) settings_->report(std::string("a send's handler threw: ") + e.what());
    } catch (...) {
      if (settings_) settings_->report("a send's handler threw a non-standard exception");
    }
  };
  for (auto& [h, e] : admitted) guarded([&] { std::move(h)(e); });
  for (auto& [h, o] : outcomes) guarded([&] { std::move(h)(std::move(o)); });
  for (auto& h : delivered) guarded([&] { std::move(h)(send_outcome{send_status::delivered, {}}); });
}

namespace {

// A time never before clock::now() (steady_clock, CLOCK_MONOTONIC), for deadlines, read on every
// send: CLOCK_MONOTONIC_COARSE is the kernel's time at its last tick, read from the vDSO page
// without the clock source (this VM's steady_clock::now() was ~4% of a pipelined run's perf
// samples); one tick more makes it no earlier than now, since the coarse time lags by less than
// a tick on a running CPU. So a deadline is at most a tick late (the sweep that checks deadlines
// runs only every transmit_timeout / 8 anyway).
outbound_queue::clock::time_point coarse_now_not_before() {
  static const std::chrono::nanoseconds tick = [] {
    timespec resolution{};
    if (::clock_getres(CLOCK_MONOTONIC_COARSE, &resolution) != 0) return std::chrono::nanoseconds(-1);
    return std::chrono::seconds(resolution.tv_sec) + std::chrono::nanoseconds(resolution.tv_nsec);
  }();
  timespec now{};
  if (tick.count() < 0 || ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0) return outbound_queue::clock::now();
  return outbound_queue::clock::time_point(std::chrono::duration_cast<outbound_queue::clock::duration>(
      std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) + tick));
}

}  // namespace

outbound_queue::outbound_queue(const transport_settings& settings, std::string peer_name,
                               framing how, bool batch_while_in_flight,
                               std::uint64_t first_sequence)
    : settings_(settings), peer_(std::move(peer_name)), framing_(how),
      next_sequence_(first_sequence), batch_while_in_flight_(batch_while_in_flight) {}

send_outcome outbound_queue::failure(std::string_view what) const {
  return send_outcome{send_status::failed, absl::StrFormat("send to %s failed: %s", peer_, what)};
}

void outbound_queue::enqueue_locked(std::string_view bytes, outcome_handler&& on_outcome) {
  // What may throw (growing the ring, copying the bytes) comes before anything is changed.
  entries_.reserve_one();
  std::string datagram_bytes;
  char* frame_start = nullptr;
  if (framing_ == framing::stream) {
    const std::size_t at = unsent_bytes_.size();
    unsent_bytes_.append(bytes);
    frame_start = unsent_bytes_.data() + at;
  } else {
    datagram_bytes.assign(bytes);
    frame_start = datagram_bytes.data();
  }
  const std::uint64_t sequence = next_sequence_++;
  if (bytes.size() >= frame_header_size) {
    // The header's little-endian sequence: one store on a little-endian host (the compiler
    // did not merge the byte loop's eight).
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(frame_start + 16, &sequence, sizeof(sequence));
    } else {
      for (int i = 0; i < 8; ++i) frame_start[16 + i] = static_cast<char>(static_cast<unsigned char>(sequence >> (8 * i)));
    }
  }
  entry& e = entries_.push_slot();  // a reset entry: every field is set here
  e.sequence = sequence;
  e.on_outcome = std::move(on_outcome);
  e.deadline = coarse_now_not_before() + settings_.transmit_timeout;
  e.size = bytes.size();
  if (framing_ == framing::datagram) e.bytes = std::move(datagram_bytes);  // a stream keeps none
  ++outstanding_;
}

// How many unsent frames the in-flight limit lets go now.
std::size_t outbound_queue::writable_count_locked() const {
  const std::size_t room =
      in_flight_ >= settings_.max_in_flight ? 0 : settings_.max_in_flight - in_flight_;
  return std::min(room, entries_.size() - in_flight_);
}

bool outbound_queue::may_write_locked() const {
  return !turn_taken_ && connected_ && !closed_ && writable_count_locked() > 0;
}

admission outbound_queue::submit(std::string_view frame_bytes, outcome_handler&& on_outcome,
                                 admitted_handler&& on_admitted, transmit_action& action) {
  action = transmit_action::none;
  std::lock_guard lock(mutex_);
  if (closed_) throw channel_closed(absl::StrFormat("send to %s: the channel is closed", peer_));
  if (outstanding_ + parked_.size() >= settings_.hard_limit) {
    throw outbound_queue_full(peer_, outstanding_ + parked_.size(), settings_.hard_limit);
  }
  if (!parked_.empty() || outstanding_ >= settings_.high_water) {
    parked_.push_back(parked_send{std::string(frame_bytes), std::move(on_outcome), std::move(on_admitted)});
    if (!connected_) action = transmit_action::connect;
    return admission::parked;
  }
  enqueue_locked(frame_bytes, std::move(on_outcome));
  if (may_write_locked()) {
    if (!batch_while_in_flight_ || in_flight_ == 0) {
      turn_taken_ = true;
      action = transmit_action::write_now;
    } else if (!flush_scheduled_) {
      flush_scheduled_ = true;
      action = transmit_action::schedule_flush;
    }
  } else if (!connected_) {
    action = transmit_action::connect;
  }
  return admission::admitted;
}

bool outbound_queue::begin_flush() {
  std::lock_guard lock(mutex_);
  flush_scheduled_ = false;
  if (!may_write_locked()) return false;
  turn_taken_ = true;
  return true;
}

bool outbound_queue::try_take_turn(bool answers_too) {
  std::lock_guard lock(mutex_);
  if (!may_write_locked() &&
      !(answers_too && !answers_.empty() && !turn_taken_ && connected_ && !closed_)) {
    return false;
  }
  turn_taken_ = true;
  return true;
}

bool outbound_queue::take_answers(std::string& out) {
  std::lock_guard lock(mutex_);
  if (turn_taken_ || answers_.empty() || !connected_ || closed_) return false;
  out.clear();
  out.swap(answers_);
  turn_taken_ = true;
  return true;
}

void outbound_queue::add_answers(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (connected_ && !closed_) answers_.append(bytes);
}

bool outbound_queue::next_stream_batch(std::string& out) {
  std::lock_guard lock(mutex_);
  const std::size_t n = connected_ && !closed_ ? writable_count_locked() : 0;
  if (!answers_.empty() && connected_ && !closed_) {
    // The answers lead; the frames the window lets go follow them in the same send.
    out.clear();
    out.swap(answers_);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) bytes += entries_[in_flight_ + i].size;
    in_flight_ += n;
    out.append(unsent_bytes_, unsent_offset_, bytes);
    unsent_offset_ += bytes;
    if (unsent_offset_ == unsent_bytes_.size()) {
      unsent_bytes_.clear();
      unsent_offset_ = 0;
    } else if (unsent_offset_ > unsent_bytes_.size() / 2) {
      unsent_bytes_.erase(0, unsent_offset_);
      unsent_offset_ = 0;
    }
    return true;
  }
  if (n == 0) {
    turn_taken_ = false;
    return false;
  }
  if (n == entries_.size() - in_flight_) {
    // Everything goes: hand over the whole buffer, keep the writer's (emptied) one for later.
    out.clear();
    if (unsent_offset_ == 0) {
      out.swap(unsent_bytes_);
    } else {
      out.assign(unsent_bytes_, unsent_offset_);
      unsent_bytes_.clear();
      unsent_offset_ = 0;
    }
    in_flight_ += n;
    return true;
  }
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < n; ++i) bytes += entries_[in_flight_ + i].size;
  in_flight_ += n;
  out.assign(unsent_bytes_, unsent_offset_, bytes);
  unsent_offset_ += bytes;
  if (unsent_offset_ > unsent_bytes_.size() / 2) {
    unsent_bytes_.erase(0, unsent_offset_);
    unsent_offset_ = 0;
  }
  return true;
}

bool outbound_queue::next_batch(std::vector<outgoing>& out, std::size_t max_frames) {
  std::lock_guard lock(mutex_);
  const std::size_t n = connected_ && !closed_ ? std::min(max_frames, writable_count_locked()) : 0;
  if (n == 0) {
    turn_taken_ = false;
    return false;
  }
  const auto now = clock::now();
  // Elements already in `out` are overwritten in place: their strings keep their capacity, so
  // a turn holder that reuses one vector copies each frame without allocating.
  if (out.size() > n) out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    entry& sent = entries_[in_flight_++];
    sent.backoff = settings_.retransmit_initial;
    sent.retransmit_at = now + sent.backoff;
    if (i < out.size()) {
      out[i].sequence = sent.sequence;
      out[i].bytes.assign(sent.bytes);
    } else {
      out.push_back(outgoing{sent.sequence, sent.bytes});
    }
    stamp_window_locked(out[i]);
  }
  return true;
}

// The oldest sequence whose answer this sender still awaits (the receiver's reorder buffer
// waits for nothing older): the first in-flight entry not yet reported.
void outbound_queue::stamp_window_locked(outgoing& out) {
  if (out.bytes.size() < frame_header_size) return;
  std::uint64_t oldest = out.sequence;
  for (std::size_t i = 0; i < in_flight_; ++i) {
    entry& e = entries_[i];
    if (e.on_outcome) {
      oldest = std::min(oldest, e.sequence);
      break;
    }
  }
  const std::uint64_t window = out.sequence - oldest;
  set_datagram_window(out.bytes, static_cast<std::uint32_t>(
                                     std::min<std::uint64_t>(window, std::numeric_limits<std::uint32_t>::max())));
}

void outbound_queue::release_turn() {
  std::lock_guard lock(mutex_);
  turn_taken_ = false;
}

void outbound_queue::pop_in_flight_locked() {
  entries_.pop_front();
  --in_flight_;
}

// Datagram answers arrive in any order: reported entries leave once nothing older waits.
void outbound_queue::pop_reported_in_flight_locked() {
  while (in_flight_ > 0 && !entries_.front().on_outcome) pop_in_flight_locked();
}

void outbound_queue::report_delivered(entry& e, pending_notifications& n) {
  if (!e.on_outcome) return;
  n.delivered(std::move(e.on_outcome));
  e.on_outcome = nullptr;
  --outstanding_;
}

void outbound_queue::report(entry& e, send_outcome o, pending_notifications& n) {
  if (!e.on_outcome) return;  // already reported (timed out while in flight)
  n.outcome(std::move(e.on_outcome), std::move(o));
  e.on_outcome = nullptr;
  --outstanding_;
}

void outbound_queue::admit_parked(pending_notifications& n) {
  if (parked_.empty() || outstanding_ > settings_.low_water) return;
  while (!parked_.empty() && outstanding_ < settings_.high_water) {
    parked_send p = std::move(parked_.front());
    parked_.pop_front();
    enqueue_locked(p.bytes, std::move(p.on_outcome));
    n.admitted(std::move(p.on_admitted), nullptr);
  }
}

pending_notifications outbound_queue::acknowledge_through(std::uint64_t upto) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  n.expect_delivered(in_flight_);
  while (in_flight_ > 0 && entries_.front().sequence <= upto) {
    report_delivered(entries_.front(), n);
    pop_in_flight_locked();
  }
  admit_parked(n);
  return n;
}

pending_notifications outbound_queue::acknowledge_one(std::uint64_t sequence) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < in_flight_; ++i) {
    entry& e = entries_[i];
    if (e.sequence == sequence) {
      report_delivered(e, n);
      break;
    }
  }
  pop_reported_in_flight_locked();
  admit_parked(n);
  return n;
}

pending_notifications outbound_queue::refuse(std::uint64_t sequence) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < in_flight_; ++i) {
    entry& e = entries_[i];
    if (e.sequence == sequence) {
      report(e,
             send_outcome{send_status::no_such_target,
                          absl::StrFormat("%s answered NACK: the target of message %d is gone",
                                          peer_, sequence)},
             n);
      break;
    }
  }
  pop_reported_in_flight_locked();
  admit_parked(n);
  return n;
}

void outbound_queue::set_connected(bool connected) {
  std::lock_guard lock(mutex_);
  connected_ = connected;
  answers_.clear();  // owed on the connection that was, if any
}

bool outbound_queue::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

pending_notifications outbound_queue::connection_lost(const std::string& reason) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  connected_ = false;
  answers_.clear();
  while (in_flight_ > 0) {
    report(entries_.front(), failure(reason), n);
    pop_in_flight_locked();
  }
  admit_parked(n);
  return n;
}

pending_notifications outbound_queue::expire(clock::time_point now) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  const std::string why = absl::StrFormat(
      "no acknowledgement within the transmit timeout of %d ms (THESPIAN_TRANSMIT_TIMEOUT_MS)",
      settings_.transmit_timeout.count());
  // Deadlines grow with the sequence, so the expired entries are prefixes of both queues.
  for (std::size_t i = 0; i < in_flight_; ++i) {
    entry& e = entries_[i];
    if (e.deadline > now) break;
    report(e, failure(why), n);
  }
  pop_reported_in_flight_locked();
  // Unsent entries are younger than every in-flight one: they expire only once none is left.
  while (in_flight_ == 0 && !entries_.empty() && entries_.front().deadline <= now) {
    report(entries_.front(), failure(why), n);
    if (framing_ == framing::stream) unsent_offset_ += entries_.front().size;
    entries_.pop_front();
  }
  if (entries_.size() == in_flight_) {
    unsent_bytes_.clear();
    unsent_offset_ = 0;
  }
  admit_parked(n);
  return n;
}

pending_notifications outbound_queue::close(const std::string& reason) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  closed_ = true;
  connected_ = false;
  for (auto& e : entries_) report(e, failure(reason), n);
  entries_.clear();
  in_flight_ = 0;
  unsent_bytes_.clear();
  unsent_offset_ = 0;
  for (auto& p : parked_) {
    n.admitted(std::move(p.on_admitted),
               std::make_exception_ptr(channel_closed(
                   absl::StrFormat("send to %s: the channel closed while the send waited for "
                                   "room in the outbound queue",
                                   peer_))));
  }
  parked_.clear();
  return n;
}

pending_notifications outbound_queue::peer_gone(const std::string& reason) {
  pending_notifications n(&settings_);
  std::lock_guard lock(mutex_);
  const send_outcome gone{send_status::no_such_target,
                          absl::StrFormat("send to %s: %s", peer_, reason)};
  for (auto& e : entries_) report(e, gone, n);
  entries_.clear();
  in_flight_ = 0;
  unsent_bytes_.clear();
  unsent_offset_ = 0;
  // Parked senders get room now; what they send next is refused the same way.
  while (!parked_.empty()) {
    parked_send p = std::move(parked_.front());
    parked_.pop_front();
    n.outcome(std::move(p.on_outcome), gone);
    n.admitted(std::move(p.on_admitted), nullptr);
  }
  return n;
}

std::vector<outbound_queue::outgoing> outbound_queue::due_for_retransmit(clock::time_point now) {
  std::vector<outgoing> due;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < in_flight_; ++i) {
    entry& e = entries_[i];
    if (!e.on_outcome || e.retransmit_at > now) continue;
    due.push_back(outgoing{e.sequence, e.bytes});
    stamp_window_locked(due.back());
    e.backoff = std::min(e.backoff * 2, settings_.reconnect_max);
    e.retransmit_at = now + e.backoff;
  }
  return due;
}

void outbound_queue::retransmit_from(clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < in_flight_; ++i) {
    entry& e = entries_[i];
    e.backoff = settings_.retransmit_initial;
    e.retransmit_at = now;
  }
}

std::size_t outbound_queue::depth() const {
  std::lock_guard lock(mutex_);
  return outstanding_;
}

std::size_t outbound_queue::parked() const {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

std::size_t outbound_queue::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

bool outbound_queue::has_unsent() const {
  std::lock_guard lock(mutex_);
  return entries_.size() > in_flight_;
}

bool outbound_queue::idle() const {
  std::lock_guard lock(mutex_);
  return outstanding_ == 0 && parked_.empty();
}

}  // namespace thespian::transport
