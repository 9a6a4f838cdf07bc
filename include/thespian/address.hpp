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
  const std::shared_ptr<detail::endpoint>& shared_endpoint() const noexcept { return endpoint_; }

 private:
  std::shared_ptr<detail::endpoint> endpoint_;
};

}  // namespace thespian

template <>
struct std::hash<thespian::ActorAddress> {
  std::size_t operator()(const thespian::ActorAddress& a) const noexcept {
    return std::hash<const void*>{}(a.endpoint());
  }
};
