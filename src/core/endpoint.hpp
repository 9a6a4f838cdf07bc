// endpoint: anything an ActorAddress can point at (an actor's cell, an external endpoint, a
// one-shot ask reply). deliver() is the single entry point of every message; it is callable
// from any thread and says whether the endpoint took the message.
#pragma once

#include <cstddef>
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
  // Thread-safe. Delivers a prefix of items[0, n) in order (moving from them) and returns its
  // length; items[result], when result < n, was refused (the caller dead-letters it and may
  // go on with the rest). An actor's cell takes all of them under one lock. The items' senders
  // may be borrowed (one actor's gathered run, see ActorAddress::borrow): an endpoint that
  // keeps them makes each one it keeps hold its own reference, except that a cell, which
  // hands them over in order, makes only the last one.
  virtual std::size_t deliver_some(envelope* items, std::size_t n) {
    std::size_t done = 0;
    for (; done < n; ++done) {
      own_sender(items[done]);
      if (!deliver(std::move(items[done]))) break;
    }
    return done;
  }

  // What ActorAddress::to_string() prints; stable for the endpoint's life.
  virtual std::string describe() const;

  // False for a stand-in of an endpoint of another process (multi-process bases), whose
  // deliver() sends. A routed system's actors share its admin's system id, so only this tells
  // the admin's own endpoints from theirs.
  virtual bool in_this_process() const noexcept { return true; }

  std::uint64_t system_id() const noexcept { return system_id_; }
  std::uint64_t id() const noexcept { return id_; }

 private:
  std::uint64_t system_id_;
  std::uint64_t id_;
};

// Makes the endpoint for (system_id, id) when that system is not in this process but can be
// reached through a transport (see system/multiproc/); nullptr when it cannot. Installed once by
// the first multi-process system of the process; decoding an address calls it for unknown ids.
using remote_resolver = std::shared_ptr<endpoint> (*)(std::uint64_t system_id, std::uint64_t id);
void set_remote_resolver(remote_resolver resolver) noexcept;

// The endpoint an address with this wire identity refers to in this process: the same object
// for the same identity while it lives (addresses stay comparable), a remote endpoint when the
// resolver knows the system, else one that accepts nothing.
std::shared_ptr<endpoint> resolve_endpoint(std::uint64_t system_id, std::uint64_t id);
// Makes `ep` findable by resolve_endpoint (done whenever an address is written to the wire).
void remember_endpoint(const std::shared_ptr<endpoint>& ep);

}  // namespace thespian::detail
