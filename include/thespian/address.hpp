// ActorAddress: the unforgeable, copyable handle to an actor (or to an external endpoint).
// Inside a process an address points at the endpoint that accepts messages for the actor;
// endpoints are interned, so equality, ordering and hashing are pointer operations.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>

#include <cereal/archives/portable_binary.hpp>

#include "thespian/export.hpp"
#include "thespian/fwd.hpp"

namespace thespian {

class THESPIAN_EXPORT ActorAddress {
 public:
  // The null address: false in a boolean context; tell/send to it throws InvalidActorAddress.
  ActorAddress() noexcept = default;
  // A copy always holds its own reference to the endpoint, even when made from a borrowed
  // address (see borrow()): that is how a borrowed one never outlives what it borrows from.
  // Always inline: a copy is on every send's path (the sender's own address), and an
  // out-of-line call cost a ping-pong message ~15 instructions more than the copy itself.
  [[gnu::always_inline]] ActorAddress(const ActorAddress& other) noexcept
      : endpoint_(other.borrowed() ? claim(other.endpoint_.get()) : other.endpoint_) {}
  ActorAddress(ActorAddress&&) noexcept = default;
  [[gnu::always_inline]] ActorAddress& operator=(const ActorAddress& other) noexcept {
    endpoint_ = other.borrowed() ? claim(other.endpoint_.get()) : other.endpoint_;
    return *this;
  }
  ActorAddress& operator=(ActorAddress&&) noexcept = default;
  ~ActorAddress() = default;
  explicit operator bool() const noexcept { return static_cast<bool>(endpoint_); }

  // Printable characters only; stable for the actor's life.
  std::string to_string() const;

  friend bool operator==(const ActorAddress& a, const ActorAddress& b) noexcept {
    return a.endpoint_ == b.endpoint_;
  }
  friend bool operator<(const ActorAddress& a, const ActorAddress& b) noexcept {
    return std::less<>{}(a.endpoint_.get(), b.endpoint_.get());
  }
  template <typename H>
  friend H AbslHashValue(H h, const ActorAddress& a) {
    return H::combine(std::move(h), a.endpoint_.get());
  }
  THESPIAN_EXPORT friend std::ostream& operator<<(std::ostream& os, const ActorAddress& a);

  // cereal: an address travels as its wire identity and is resolved on arrival.
  void save(cereal::PortableBinaryOutputArchive& ar) const;
  void load(cereal::PortableBinaryInputArchive& ar);

  // Internal (the endpoint type is opaque to users, which keeps addresses unforgeable).
  explicit ActorAddress(std::shared_ptr<detail::endpoint> endpoint) noexcept
      : endpoint_(std::move(endpoint)) {}
  detail::endpoint* endpoint() const noexcept { return endpoint_.get(); }
  // Never borrowed (a borrowed address gives a counted reference).
  std::shared_ptr<detail::endpoint> shared_endpoint() const noexcept {
    return borrowed() ? claim(endpoint_.get()) : endpoint_;
  }
  // Internal: an address that holds no reference of its own (no reference-count change to
  // make it, copy it or drop it), for the envelopes of a run of sends gathered from one actor:
  // the run's last envelope holds a real reference, and a mailbox hands its envelopes over
  // in order, so while any of the others is handled, the endpoint is alive. Copies and
  // assignments from it hold their own reference.
  static ActorAddress borrow(detail::endpoint* endpoint) noexcept {
    return ActorAddress(std::shared_ptr<detail::endpoint>(std::shared_ptr<detail::endpoint>(),
                                                          endpoint));
  }
  // Internal: the address points somewhere but holds no reference (made by borrow()).
  [[gnu::always_inline]] bool borrowed() const noexcept {
    return endpoint_ && !std::shared_ptr<void>().owner_before(endpoint_);
  }

 private:
  // A counted reference to a live endpoint (shared_from_this).
  THESPIAN_EXPORT static std::shared_ptr<detail::endpoint> claim(detail::endpoint* endpoint) noexcept;
  std::shared_ptr<detail::endpoint> endpoint_;
};

}  // namespace thespian

template <>
struct std::hash<thespian::ActorAddress> {
  std::size_t operator()(const thespian::ActorAddress& a) const noexcept {
    return std::hash<const void*>{}(a.endpoint());
  }
};
