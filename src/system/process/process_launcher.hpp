// The front of the process layer: start an actor process by any Process Startup Method,
// choose the default method, and run the bootstrap exchange that makes the new process host
// something. The multi-process bases call these; nothing here knows about transports.
#pragma once

#include <chrono>
#include <memory>

#include "system/process/bootstrap.hpp"
#include "system/process/child_process.hpp"
#include "system/process/forkserver.hpp"
#include "system/process/startup_method.hpp"

namespace thespian::detail::process {

// The explicit early call: starts the process-wide forkserver now if it is not running, with
// `pool` children forked in advance (forkserver.hpp; an admin's, see prefork_pool_size()).
// Throws ActorSystemStartupFailure when other threads already exist. Thread-safe.
std::shared_ptr<forkserver> start_shared_forkserver(std::size_t pool = 0);

// How many actor processes an admin's forkserver keeps forked in advance:
// THESPIAN_PREFORK_POOL (0 turns it off, at most 64), default 2. Throws
// ActorSystemStartupFailure when the variable is not a number.
std::size_t prefork_pool_size();
// Ends the process-wide forkserver and reaps it (once nothing else holds it): for a process
// that started one and is about to _exit(), which runs no destructor.
void stop_shared_forkserver();
// The process-wide forkserver, or nullptr when none was started.
std::shared_ptr<forkserver> shared_forkserver();

// The method used when the system names none (docs/design.md "Processes"):
//   1. forkserver, if the process-wide one runs or can be started now (one thread);
//   2. else spawn, if serve_actor_process() ran in this process (the hook is installed);
//   3. else ActorSystemStartupFailure saying what to do.
// May start the process-wide forkserver. The multi-process bases call it before they start
// any thread of their own.
startup_method default_startup_method();

// A new actor process by `method` (forkserver: the process-wide one, started if needed).
child_process launch_actor_process(startup_method method);

// Sends `request` and waits for the child's answer. Throws InvalidActorSpecification (the name
// is unknown in the child, or its constructor threw: the message says which),
// ActorSystemStartupFailure (the process ended, answered garbage, or not before the deadline).
void start_actor_host(child_process& child, const bootstrap_request& request,
                      std::chrono::steady_clock::time_point deadline);

}  // namespace thespian::detail::process
