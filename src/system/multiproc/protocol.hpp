// The messages a multi-process system's own parts exchange (client ↔ admin ↔ actor
// processes), registered under "thespian.internal.*" wire names, and what a new actor process is
// told at birth. They travel like any message, so the admin is an ordinary actor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"
#include "thespian/system_options.hpp"

namespace thespian::detail::multiproc {

// To the admin: make an actor in a process of its own. With system_id == 0 (from outside, or a
// named actor from an actor: the name may exist already) the admin picks the ids and answers
// CreateActorReply; otherwise the parent chose the ids (and already returned the address) and
// hears only of a failure, as ChildActorExited.
struct CreateActorRequest {
  std::string type_name;
  std::uint64_t type_token = 0;  // the actor_type's address in an image with identity `image`
  std::uint64_t image = 0;
  Requirements requirements;
  std::string global_name;
  ActorAddress parent;
  std::uint64_t system_id = 0;
  std::uint64_t endpoint_id = 0;
  template <class A> void serialize(A& ar) {
    ar(type_name, type_token, image, requirements, global_name, parent, system_id, endpoint_id);
  }
};

struct CreateActorReply {
  enum failure : std::uint8_t { none = 0, invalid_specification = 1, no_compatible_system = 2,
                                system_failure = 3 };
  ActorAddress created;
  std::uint8_t error_kind = none;
  std::string error;
  template <class A> void serialize(A& ar) { ar(created, error_kind, error); }
};

// To the admin: end every actor (exit requests, then SIGKILL after a grace period) and answer
// SystemShutDown when no actor process is left.
struct ShutdownSystem {
  template <class A> void serialize(A&) {}
};
struct SystemShutDown {
  std::uint64_t killed = 0;  // processes that had to be killed
  template <class A> void serialize(A& ar) { ar(killed); }
};

// To the admin of a multiprocTCPBase system from a program that found it listening on the
// Admin Port: may it use this system? Answered with JoinReply.
struct JoinSystem {
  std::string base;
  template <class A> void serialize(A& ar) { ar(base); }
};
struct JoinReply {
  bool accepted = false;
  std::string why;  // when refused: the admin is shutting down, or runs another base
  // The admin's routing, which the joining program takes (system_route.hpp).
  bool admin_routing = false;
  bool outbound_only = false;
  template <class A> void serialize(A& ar) { ar(accepted, why, admin_routing, outbound_only); }
};

// From the admin to a parent's control endpoint: the child's process listens on its route now
// (or will never): the port the parent reserved for it (system_route.hpp) can be let go, and
// messages waiting for the child need not wait out the reconnect back-off.
struct ReleaseRoute {
  std::uint64_t system_id = 0;
  template <class A> void serialize(A& ar) { ar(system_id); }
};

// To the admin: `handler` starts (or stops) being the system's dead-letter handler.
struct SetDeadLetterHandler {
  ActorAddress handler;
  bool start = true;
  template <class A> void serialize(A& ar) { ar(handler, start); }
};

// To the admin: answer SystemStatus for the whole system (every actor process, the names).
struct SystemStatusQuery {
  template <class A> void serialize(A&) {}
};

// To the admin (answered with the same message once applied everywhere it knows), and from
// the admin to each actor process's control endpoint: a capability changed.
struct UpdateCapability {
  std::string name;
  std::optional<CapabilityValue> value;
  template <class A> void serialize(A& ar) { ar(name, value); }
};

// A log record on its way to the logger process (and from it to the creating program's sink).
struct LogRecordMessage {
  std::int32_t level = 0;
  std::string source;
  std::string text;
  std::int64_t when_ns = 0;  // since the epoch of system_clock
  template <class A> void serialize(A& ar) { ar(level, source, text, when_ns); }
};

// Where the admin and actor processes send their log records: the logger process's actor,
// which writes the internal log file for the whole system. Records below `threshold` stay home.
struct log_route {
  std::uint64_t logger_system_id = 0;
  std::int32_t threshold = 0;
  template <class A> void serialize(A& ar) { ar(logger_system_id, threshold); }
};

// What the logger process is told at birth: the creating program's resolved log settings.
struct logger_spec {
  std::uint64_t system_id = 0;
  std::uint64_t client_system_id = 0;
  std::string base;
  std::string log_file;
  std::uint64_t log_max_size = 0;
  std::int32_t file_threshold = 0;
  bool has_sink = false;  // the creating program has a SystemOptions::log_sink
  std::int32_t sink_threshold = 0;
  template <class A> void serialize(A& ar) {
    ar(system_id, client_system_id, base, log_file, log_max_size, file_threshold, has_sink,
       sink_threshold);
  }
};

// What the admin process is told at birth (its bootstrap argument).
struct admin_spec {
  std::string base;
  Capabilities capabilities;
  std::uint64_t system_id = 0;
  log_route logging;
  std::uint64_t client_system_id = 0;  // the creating program's system
  // multiprocTCPBase: the admin outlives the creating program, so it starts (and owns) the
  // logger itself, from this spec. Empty: the creating program started the logger.
  std::optional<logger_spec> own_logger;
  template <class A> void serialize(A& ar) {
    ar(base, capabilities, system_id, logging, client_system_id, own_logger);
  }
};

// What an actor process is told at birth (its bootstrap argument).
struct actor_spec {
  CreateActorRequest request;  // with the ids filled in
  std::uint64_t admin_system_id = 0;
  std::string base;
  Capabilities capabilities;
  log_route logging;
  template <class A> void serialize(A& ar) {
    ar(request, admin_system_id, base, capabilities, logging);
  }
};

// The options of an admin or actor process's system: its records go to the logger.
SystemOptions options_logging_to(const log_route& route);

// Every multi-process system's own endpoint for what the admin tells the system rather than an
// actor (UpdateCapability): endpoint id 0, which no actor or external endpoint has.
inline constexpr std::uint64_t control_endpoint_id = 0;

// Actor endpoint ids are unique across processes too (a parent keys its children by endpoint
// id): see new_actor_endpoint_id and admin_endpoint_id (system_route.hpp).

// cereal to and from a byte string (bootstrap arguments). Decoding throws cereal::Exception.
std::string encode_logger_spec(const logger_spec& spec);
logger_spec decode_logger_spec(const std::string& bytes);
std::string encode_admin_spec(const admin_spec& spec);
admin_spec decode_admin_spec(const std::string& bytes);
std::string encode_actor_spec(const actor_spec& spec);
actor_spec decode_actor_spec(const std::string& bytes);

}  // namespace thespian::detail::multiproc
