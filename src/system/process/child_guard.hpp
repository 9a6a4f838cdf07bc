// What every actor process (and the forkserver) does first so that it never outlives the
// process that started it: the kernel's parent-death signal, a re-check for the race where the
// parent died before that took effect, and a watch on the bootstrap socket whose EOF means the
// parent is gone.
#pragma once

#include <sys/types.h>

namespace thespian::detail::process {

// Exit codes of an actor process that ends on its own (the parent reads them from exit_status).
inline constexpr int host_exit_ok = 0;
inline constexpr int host_exit_bad_bootstrap = 64;  // malformed or missing bootstrap request
inline constexpr int host_exit_unknown_entry = 65;  // no host entry / actor type by that name
inline constexpr int host_exit_orphaned = 66;       // the parent was gone before we started
inline constexpr int host_exit_failed = 67;         // the entry threw

// PR_SET_PDEATHSIG(SIGKILL), then _exit(host_exit_orphaned) if getppid() is no longer
// `expected_parent`. The signal fires when the *thread* that forked us ends, so launchers
// must run on a thread that lives as long as the system (docs/design.md "Processes").
void die_with_parent(pid_t expected_parent);

// In a forked child: moves `fd` to descriptor 3 (close-on-exec) and closes every other
// descriptor above 2, so that the child holds no copy of its siblings' or parent's sockets (a
// stray copy would hide the parent's death from the liveness check). Returns 3.
int keep_only_descriptor(int fd);

// Starts a thread that _exit()s this process (code host_exit_ok) once the peer of `socket`
// has closed its end: the liveness check behind PDEATHSIG (which a subreaper or a thread exit
// can defeat). Call only in a fresh actor process.
void exit_when_parent_closes(int socket);

}  // namespace thespian::detail::process
