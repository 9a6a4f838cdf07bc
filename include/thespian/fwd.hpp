// Forward declarations of the public types, for headers that only name them.
#pragma once

namespace thespian {

class Message;
class ActorAddress;
class Actor;
class ActorSystem;
class ExternalContext;
class Logger;
struct SystemOptions;
struct ActorStatus;
struct SystemStatus;

namespace detail {
class endpoint;
class actor_cell;
class system_core;
}  // namespace detail

}  // namespace thespian
