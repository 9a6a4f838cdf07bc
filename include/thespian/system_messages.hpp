// The messages the system itself sends and understands. All are registered for the wire, all
// are aggregates with public fields, and all compare with == as Thespian's do.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <cereal/types/chrono.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>

#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/export.hpp"
#include "thespian/message.hpp"

namespace thespian {

// Asks an actor to exit. Recursive (the default): every descendant exits first.
struct ActorExitRequest {
  bool recursive = true;
  friend bool operator==(const ActorExitRequest&, const ActorExitRequest&) { return true; }
  template <class A> void serialize(A& ar) { ar(recursive); }
};

// Sent to a parent when one of its children has exited, for any reason.
struct ChildActorExited {
  ActorAddress child;
  friend bool operator==(const ChildActorExited&, const ChildActorExited&) = default;
  template <class A> void serialize(A& ar) { ar(child); }
};

// Returned to the sender of a message whose handling threw twice; details name the exception.
struct PoisonMessage {
  Message poison;
  std::string details;
  friend bool operator==(const PoisonMessage& a, const PoisonMessage& b) {
    return a.poison == b.poison;
  }
  template <class A> void serialize(A& ar) { ar(poison, details); }
};

// A message that could not be delivered, as given to the dead-letter handler.
struct DeadEnvelope {
  ActorAddress dead_address;
  Message dead_message;
  friend bool operator==(const DeadEnvelope&, const DeadEnvelope&) = default;
  template <class A> void serialize(A& ar) { ar(dead_address, dead_message); }
};

// Delivered by wakeup_after(delay, payload), from the actor itself.
struct WakeupMessage {
  std::chrono::nanoseconds delay{0};
  Message payload;
  friend bool operator==(const WakeupMessage&, const WakeupMessage&) = default;
  template <class A> void serialize(A& ar) { ar(delay, payload); }
};

// Delivered when watched file descriptors are readable.
struct WatchMessage {
  std::vector<int> ready;
  friend bool operator==(const WatchMessage&, const WatchMessage&) = default;
  template <class A> void serialize(A& ar) { ar(ready); }
};

struct ActorSystemConventionUpdate {
  std::string remote_admin;
  Capabilities capabilities;
  bool added = false;
  friend bool operator==(const ActorSystemConventionUpdate&,
                         const ActorSystemConventionUpdate&) = default;
  template <class A> void serialize(A& ar) { ar(remote_admin, capabilities, added); }
};

struct ValidateSource {
  std::string source_hash;
  std::string data;
  std::string source_info;
  friend bool operator==(const ValidateSource& a, const ValidateSource& b) {
    return a.source_hash == b.source_hash;
  }
  template <class A> void serialize(A& ar) { ar(source_hash, data, source_info); }
};

struct ValidatedSource {
  std::string source_hash;
  std::optional<std::string> data;
  std::string source_info;
  friend bool operator==(const ValidatedSource& a, const ValidatedSource& b) {
    return a.source_hash == b.source_hash;
  }
  template <class A> void serialize(A& ar) { ar(source_hash, data, source_info); }
};

struct LoadedSource {
  std::string source_hash;
  std::string source_info;
  friend bool operator==(const LoadedSource&, const LoadedSource&) = default;
  template <class A> void serialize(A& ar) { ar(source_hash, source_info); }
};

struct UnloadedSource {
  std::string source_hash;
  std::string source_info;
  friend bool operator==(const UnloadedSource&, const UnloadedSource&) = default;
  template <class A> void serialize(A& ar) { ar(source_hash, source_info); }
};

// Answered by the framework (never reaches receive()) with ActorStatus or SystemStatus.
struct StatusRequest {
  friend bool operator==(const StatusRequest&, const StatusRequest&) { return true; }
  template <class A> void serialize(A&) {}
};

struct THESPIAN_EXPORT ActorStatus {
  ActorAddress address;
  std::string type_name;
  ActorAddress parent;
  std::vector<ActorAddress> children;
  std::size_t pending_messages = 0, pending_wakeups = 0;
  std::uint64_t received = 0, sent = 0;
  std::string format() const;  // human-readable, several lines
  friend bool operator==(const ActorStatus&, const ActorStatus&) = default;
  template <class A> void serialize(A& ar) {
    ar(address, type_name, parent, children, pending_messages, pending_wakeups, received, sent);
  }
};

struct THESPIAN_EXPORT SystemStatus {
  std::string admin_address;
  std::string base;
  Capabilities capabilities;
  std::string convention_leader;
  std::vector<std::string> convention_members;
  std::map<std::string, ActorAddress> global_names;
  ActorAddress dead_letter_handler, source_authority;
  std::vector<std::string> loaded_sources;
  std::size_t actor_count = 0;
  std::string format() const;  // human-readable, several lines
  friend bool operator==(const SystemStatus&, const SystemStatus&) = default;
  template <class A> void serialize(A& ar) {
    ar(admin_address, base, capabilities, convention_leader, convention_members, global_names,
       dead_letter_handler, source_authority, loaded_sources, actor_count);
  }
};

namespace detail {
template <> struct is_control_message<ActorExitRequest> : std::true_type {};
template <> struct is_control_message<ChildActorExited> : std::true_type {};
template <> struct is_control_message<StatusRequest> : std::true_type {};
}  // namespace detail

}  // namespace thespian
