// Process Startup Method `fork`: fork() of the calling process, whose copy becomes an actor
// host at once. Refused (with the reason and the alternatives) unless the caller is the only
// thread of its process: after fork() in a multithreaded process, only async-signal-safe
// calls are safe in the child, and an actor host is far more than that.
#pragma once

#include <string>

#include "system/process/child_process.hpp"

namespace thespian::detail::process {

// The ActorSystemStartupFailure text for a method that must fork but finds `threads` threads.
std::string refusal_to_fork(const char* what, std::size_t threads);

// Throws ActorSystemStartupFailure when other threads exist, std::system_error when fork or
// the socket pair fails.
child_process fork_actor_process();

}  // namespace thespian::detail::process
