// endpoint: anything an ActorAddress can point at (an actor's cell, an external endpoint, a
// one-shot ask reply). deliver() is the single entry point of every message; it is callable
// from any thread and says whether the endpoint took the message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/envelope.hpp"

namespace thespian::detail {

class endpoint : public std::enable_shared_from_this<endpoint> {
 public:
  endpoint(std::uint64_t system_id, std::uint64_t id) noexcept : system_id_(system_id), id_(id) {}
  virtual ~endpoint() = default;
  endpoint(const endpoint&) = delete;
  endpoint& operator=(const endpoint&) = delete;

  // Thread-safe. false: the endpoint is gone (exited actor, closed context, answered ask) and
  // the caller must dead-letter the message.
  virtual bool deliver(envelope&& e) = 0;

  // What ActorAddress::to_string() prints; stable for the endpoint's life.
  virtual std::string describe() const;

  std::uint64_t system_id() const noexcept { return system_id_; }
  std::uint64_t id() const noexcept { return id_; }

 private:
  std::uint64_t system_id_;
  std::uint64_t id_;
};

}  // namespace thespian::detail
