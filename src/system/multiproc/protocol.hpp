// The messages a multi-process system's own parts exchange (client ↔ admin ↔ actor
// processes), registered under "thespian.internal.*" wire names, and what a new actor process is
// told at birth. They travel like any message, so the admin is an ordinary actor.
#pragma once

#include <cstdint>
#include <string>

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>

#include "thespian/address.hpp"
#include "thespian/capabilities.hpp"

namespace thespian::detail::multiproc {

// To the admin: make an actor in a process of its own. From outside (system_id == 0) the admin
// picks the ids and answers CreateActorReply; from an actor, the parent chose the ids (and
// already returned the address) and hears only of a failure, as ChildActorExited.
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

// What the admin process is told at birth (its bootstrap argument).
struct admin_spec {
  std::string base;
  Capabilities capabilities;
  std::uint64_t system_id = 0;
  template <class A> void serialize(A& ar) { ar(base, capabilities, system_id); }
};

// What an actor process is told at birth (its bootstrap argument).
struct actor_spec {
  CreateActorRequest request;  // with the ids filled in
  std::uint64_t admin_system_id = 0;
  std::string base;
  Capabilities capabilities;
  template <class A> void serialize(A& ar) { ar(request, admin_system_id, base, capabilities); }
};

// The admin actor's endpoint id is its system id, like every actor of these bases: endpoint
// ids are then unique across processes too (a parent keys its children by endpoint id).
inline std::uint64_t actor_endpoint_id(std::uint64_t system_id) { return system_id; }

// cereal to and from a byte string (bootstrap arguments). Decoding throws cereal::Exception.
std::string encode_admin_spec(const admin_spec& spec);
admin_spec decode_admin_spec(const std::string& bytes);
std::string encode_actor_spec(const actor_spec& spec);
actor_spec decode_actor_spec(const std::string& bytes);

}  // namespace thespian::detail::multiproc
