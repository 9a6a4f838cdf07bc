// endpoint: anything an ActorAddress can point at (an actor's cell, an external endpoint, a
// one-shot ask reply). deliver() is the single entry point of every message; it is callable
// from any thread and says whether the endpoint took the message. Every endpoint lives in a
// block that starts with its reference counts (thespian/detail/endpoint_ref.hpp): made by
// make_endpoint, or for an actor's cell by make_endpoint_at in a block of the cell's own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/envelope.hpp"
#include "thespian/detail/endpoint_ref.hpp"

namespace thespian::detail {

class endpoint {
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

  // The bytes of the small-pool block the endpoint was made in (make_endpoint_at), or 0 for
  // make_endpoint's own allocation: asked once, just before the endpoint is destroyed, so
  // that its block can be given back (destroy_endpoint, in address.cpp).
  virtual std::size_t pooled_block_bytes() const noexcept { return 0; }

 private:
  std::uint64_t system_id_;
  std::uint64_t id_;
};

// Where an endpoint of a block starts: right behind its counts.
inline constexpr std::size_t kEndpointOffset = sizeof(ref_counts);
static_assert(alignof(ref_counts) <= kEndpointOffset);

// Constructs a T (an endpoint) behind fresh counts at the start of `block`, which holds at
// least kEndpointOffset + sizeof(T) bytes, and returns the one strong reference. T's
// pooled_block_bytes() must say how `block` is given back. If T's constructor throws, the
// block is still the caller's.
template <class T, class... Args>
endpoint_ref<T> make_endpoint_at(void* block, Args&&... args) {
  static_assert(alignof(T) <= kEndpointOffset);
  new (block) ref_counts;
  T* p = new (static_cast<char*>(block) + kEndpointOffset) T(std::forward<Args>(args)...);
  // The counts are found from the endpoint's address (endpoint_ref works on incomplete
  // types): the endpoint must be where T starts.
  if (static_cast<void*>(static_cast<endpoint*>(p)) != static_cast<void*>(p)) {
    p->~T();
    throw std::logic_error("an endpoint type must have endpoint as its first base");
  }
  return endpoint_ref<T>::adopt(p);
}

// The same in an allocation of its own (operator new; destroy_endpoint frees it).
template <class T, class... Args>
endpoint_ref<T> make_endpoint(Args&&... args) {
  void* block = ::operator new(kEndpointOffset + sizeof(T));
  try {
    return make_endpoint_at<T>(block, std::forward<Args>(args)...);
  } catch (...) {
    ::operator delete(block);
    throw;
  }
}

// static_pointer_cast for endpoint references: `from` must refer to a T.
template <class T, class U>
endpoint_ref<T> endpoint_cast(endpoint_ref<U> from) noexcept {
  return endpoint_ref<T>::adopt(static_cast<T*>(from.release()));
}

// Makes the endpoint for (system_id, id) when that system is not in this process but can be
// reached through a transport (see system/multiproc/); nullptr when it cannot. Installed once by
// the first multi-process system of the process; decoding an address calls it for unknown ids.
using remote_resolver = endpoint_ref<endpoint> (*)(std::uint64_t system_id, std::uint64_t id);
void set_remote_resolver(remote_resolver resolver) noexcept;

// The endpoint an address with this wire identity refers to in this process: the same object
// for the same identity while it lives (addresses stay comparable), a remote endpoint when the
// resolver knows the system, else one that accepts nothing.
endpoint_ref<endpoint> resolve_endpoint(std::uint64_t system_id, std::uint64_t id);
// Makes `ep` findable by resolve_endpoint (done whenever an address is written to the wire).
void remember_endpoint(const endpoint_ref<endpoint>& ep);

}  // namespace thespian::detail
