// ActorAddress: the unforgeable, copyable handle to an actor (or to an external endpoint).
// Inside a process an address points at the endpoint that accepts messages for the actor;
// endpoints are interned, so equality, ordering and hashing are pointer operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>

#include <cereal/archives/portable_binary.hpp>

#include "thespian/detail/endpoint_ref.hpp"
#include "thespian/export.hpp"
#include "thespian/fwd.hpp"

namespace thespian {

class THESPIAN_EXPORT ActorAddress {
 public:
  // The null address: false in a boolean context; tell/send to it throws InvalidActorAddress.
  ActorAddress() noexcept = default;
  // A copy always holds its own reference to the endpoint, even when made from a borrowed
  // address (see borrow()): that is how a borrowed one never outlives what it borrows from.
  // Inline: a copy is on every send's path (the sender's own address), and an out-of-line
  // call cost a ping-pong message ~15 instructions more than the copy itself.
  [[gnu::always_inline]] ActorAddress(const ActorAddress& other) noexcept
      : bits_(other.bits_ & ~kBorrowed) {
    if (bits_) detail::retain(endpoint());
  }
  ActorAddress(ActorAddress&& other) noexcept : bits_(std::exchange(other.bits_, 0)) {}
  [[gnu::always_inline]] ActorAddress& operator=(const ActorAddress& other) noexcept {
    ActorAddress copy(other);
    std::swap(bits_, copy.bits_);
    return *this;
  }
  ActorAddress& operator=(ActorAddress&& other) noexcept {
    ActorAddress taken(std::move(other));
    std::swap(bits_, taken.bits_);
    return *this;
  }
  ~ActorAddress() {
    if (bits_ && !(bits_ & kBorrowed)) detail::release(endpoint());
  }
  explicit operator bool() const noexcept { return bits_ != 0; }

  // Printable characters only; stable for the actor's life.
  std::string to_string() const;

  friend bool operator==(const ActorAddress& a, const ActorAddress& b) noexcept {
    return a.endpoint() == b.endpoint();
  }
  friend bool operator<(const ActorAddress& a, const ActorAddress& b) noexcept {
    return std::less<>{}(a.endpoint(), b.endpoint());
  }
  template <typename H>
  friend H AbslHashValue(H h, const ActorAddress& a) {
    return H::combine(std::move(h), a.endpoint());
  }
  THESPIAN_EXPORT friend std::ostream& operator<<(std::ostream& os, const ActorAddress& a);

  // cereal: an address travels as its wire identity and is resolved on arrival.
  void save(cereal::PortableBinaryOutputArchive& ar) const;
  void load(cereal::PortableBinaryInputArchive& ar);

  // Internal (the endpoint type is opaque to users, which keeps addresses unforgeable).
  explicit ActorAddress(detail::endpoint_ref<detail::endpoint> endpoint) noexcept
      : bits_(reinterpret_cast<std::uintptr_t>(endpoint.release())) {}
  detail::endpoint* endpoint() const noexcept {
    return reinterpret_cast<detail::endpoint*>(bits_ & ~kBorrowed);
  }
  // Never borrowed (a borrowed address gives a counted reference).
  detail::endpoint_ref<detail::endpoint> shared_endpoint() const noexcept {
    return detail::endpoint_ref<detail::endpoint>::share(endpoint());
  }
  // Internal: an address that holds no reference of its own (no reference-count change to
  // make it, copy it or drop it), for the envelopes of a run of sends gathered from one actor:
  // the run's last envelope holds a real reference, and a mailbox hands its envelopes over
  // in order, so while any of the others is handled, the endpoint is alive. Copies and
  // assignments from it hold their own reference.
  static ActorAddress borrow(detail::endpoint* endpoint) noexcept {
    ActorAddress a;
    if (endpoint) a.bits_ = reinterpret_cast<std::uintptr_t>(endpoint) | kBorrowed;
    return a;
  }
  // Internal: the address points somewhere but holds no reference (made by borrow()).
  [[gnu::always_inline]] bool borrowed() const noexcept { return (bits_ & kBorrowed) != 0; }

 private:
  // The endpoint's address (endpoints are at least 8-byte aligned), its low bit set when
  // borrowed: one word, where a std::shared_ptr took two.
  static constexpr std::uintptr_t kBorrowed = 1;
  std::uintptr_t bits_ = 0;
};

}  // namespace thespian

template <>
struct std::hash<thespian::ActorAddress> {
  std::size_t operator()(const thespian::ActorAddress& a) const noexcept {
    return std::hash<const void*>{}(a.endpoint());
  }
};
