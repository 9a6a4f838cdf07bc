// Process Startup Method `spawn`: posix_spawn of /proc/self/exe, marked (host_marker.hpp) so
// that the copy becomes an actor host in serve_actor_process(). Safe from any thread of any
// program; needs the hook at the top of main().
#pragma once

#include "system/process/child_process.hpp"

namespace thespian::detail::process {

// The caller must be the thread the child should die with (PDEATHSIG). Throws
// std::system_error when the socket pair or posix_spawn fails.
child_process spawn_actor_process();

}  // namespace thespian::detail::process
