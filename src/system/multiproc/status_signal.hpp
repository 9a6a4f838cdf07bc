// SIGUSR1 on an admin, logger or actor process writes that process's status to the internal
// log (through the logger, like every record of these processes), as Thespian does. Written at
// WARNING, the default threshold, so that a status asked for by hand is never filtered out.
#pragma once

#include <string>

namespace thespian::detail {
class system_core;
}

namespace thespian::detail::multiproc {

// Until `core` shuts down, each SIGUSR1 logs "<role> process <pid> status (SIGUSR1):" and
// core.status().format(). Call once per process, after the core exists.
void log_status_on_sigusr1(system_core& core, std::string role);

}  // namespace thespian::detail::multiproc
