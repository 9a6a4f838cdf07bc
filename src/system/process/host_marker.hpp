// How a spawned copy of the program knows it is an actor host: the spawn launcher sets two
// environment variables, and serve_actor_process() (the hook at the top of main) reads them.
// Also records that the hook ran, which tells the launcher that `spawn` can work here.
#pragma once

#include <sys/types.h>

namespace thespian::detail::process {

// The inherited descriptor of the bootstrap socket, e.g. "3".
inline constexpr const char* host_socket_variable = "THESPIAN_ACTOR_HOST";
// The pid of the process that spawned us, to detect a parent that died before we ran.
inline constexpr const char* host_parent_variable = "THESPIAN_ACTOR_HOST_PARENT";
// argv[1] of a spawned copy, so that `ps` shows what the process is.
inline constexpr const char* host_argument = "--thespian-actor-host";

// The body of serve_actor_process(): returns at once when the variables are absent; otherwise
// becomes the actor host and never returns. A malformed marker ends the process with
// host_exit_bad_bootstrap and a line on stderr.
void serve_if_actor_host();

// True once serve_if_actor_host() has run in this process (and returned).
bool actor_host_hook_installed();

}  // namespace thespian::detail::process
