// The actor-host side of a new actor process: read the bootstrap request, find what it names
// (a host entry, else a THESPIAN_ACTOR type), answer the parent, run it, and end the process.
// Every startup method ends up here in the child, after die_with_parent().
#pragma once

#include <chrono>

#include "system/process/unique_fd.hpp"

namespace thespian::detail::process {

// How long a new process waits for its bootstrap request before giving up.
inline constexpr std::chrono::seconds bootstrap_wait{30};

// Never returns: ends the process with _exit() (a forked copy must not run the parent's
// atexit handlers or static destructors) and one of the host_exit_* codes or the entry's code.
[[noreturn]] void run_actor_host(unique_fd socket);

}  // namespace thespian::detail::process
