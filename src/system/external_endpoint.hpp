// external_endpoint: where replies to code outside the actors land (the system's shared
// endpoint, and one per ExternalContext). Messages wait in a queue until listen() takes them;
// internal system messages other than PoisonMessage and status replies are dropped here.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

#include "core/endpoint.hpp"
#include "system/base_driver.hpp"

namespace thespian::detail {

class system_core;

class external_endpoint final : public endpoint {
 public:
  external_endpoint(system_core& core, std::uint64_t id);

  bool deliver(envelope&& e) override;
  // Waits (on simpleSystemBase: runs the actors) until a message arrives or the deadline.
  std::optional<Message> listen(clock::time_point deadline);
  // Later deliveries fail and become dead letters.
  void close();
  std::string describe() const override;

 private:
  bool has_message();

  system_core& core_;
  std::mutex mutex_;
  std::deque<Message> inbox_;
  // inbox_.size(), readable without the lock: a waiter spinning on it does not contend with
  // the thread that delivers.
  std::atomic<std::size_t> waiting_{0};
  bool closed_ = false;
};

}  // namespace thespian::detail
