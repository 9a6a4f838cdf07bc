// Helpers for the transport channel tests: an inbox that records delivered frames (and can
// refuse targets), an outcome recorder, frame builders, and waiting on a condition with a
// deadline (never a bare sleep).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support.hpp"
#include "thespian/address.hpp"
#include "thespian/message.hpp"
#include "transport/channel.hpp"
#include "transport/frame.hpp"
#include "transport/transport_settings.hpp"

namespace transport_support {

using namespace std::chrono_literals;

// Settings for loopback tests of connections that come and go: quick redials, a quiet log.
inline thespian::transport::transport_settings quick_settings() {
  thespian::transport::transport_settings s;
  s.reconnect_initial = 5ms;
  s.reconnect_max = 50ms;
  s.log = [](std::string_view) {};
  return s;
}

// Polls `condition` until it holds or `limit` passes; true when it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Records the frames a channel delivers; messages whose text is "gone" are refused (NACK).
class inbox {
 public:
  bool deliver(thespian::transport::frame&& f) {
    std::lock_guard lock(mutex_);
    if (f.message.is<std::string>() && f.message.as<std::string>() == "gone") return false;
    frames_.push_back(std::move(f));
    cv_.notify_all();
    return true;
  }
  thespian::transport::deliver_handler handler() {
    return [this](thespian::transport::frame&& f) { return deliver(std::move(f)); };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds limit = 10000ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return frames_.size() >= n; });
  }
  std::vector<std::string> texts() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& f : frames_) out.push_back(f.message.as<std::string>());
    return out;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return frames_.size();
  }
  thespian::transport::frame at(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return frames_.at(i);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<thespian::transport::frame> frames_;
};

// Collects outcomes by the index the test gave each message.
class outcomes {
 public:
  explicit outcomes(std::size_t n) : results_(n), seen_(n, 0) {}
  thespian::transport::outcome_handler handler(std::size_t index) {
    return [this, index](thespian::transport::send_outcome o) {
      std::lock_guard lock(mutex_);
      ++seen_[index];
      results_[index] = std::move(o);
      ++count_;
      cv_.notify_all();
    };
  }
  bool wait_for(std::size_t n, std::chrono::milliseconds limit = 10000ms) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return count_ >= n; });
  }
  thespian::transport::send_outcome at(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return results_.at(i);
  }
  std::size_t times_reported(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return seen_.at(i);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::size_t count_of(thespian::transport::send_status s) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (std::size_t i = 0; i < results_.size(); ++i) n += (seen_[i] && results_[i].status == s);
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<thespian::transport::send_outcome> results_;
  std::vector<int> seen_;
  std::size_t count_ = 0;
};

// A data frame carrying `text` to `target`.
inline thespian::transport::frame text_frame(const thespian::ActorAddress& target, std::string text) {
  return thespian::transport::frame{thespian::transport::frame_kind::data, 0, target,
                                    thespian::ActorAddress{}, thespian::Message(std::move(text))};
}

}  // namespace transport_support
