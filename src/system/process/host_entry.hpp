// Host entries: named functions an actor process can run after its bootstrap, besides hosting a
// THESPIAN_ACTOR type. Register them at static initialisation (THESPIAN_DETAIL_HOST_ENTRY) so
// that every copy of the program has them: a spawned copy knows only what its static
// initialisers registered. Tests use them to give a child a small job; the admin and logger
// processes of the multi-process bases will be entries too.
#pragma once

#include <string>
#include <string_view>

namespace thespian::detail::process {

// What an entry gets: the bootstrap socket (already answered "ready"; the entry owns the
// conversation from here) and the request's argument. The socket is the entry's liveness
// check: an entry must end when it reads EOF there (its parent is gone), or call
// exit_when_parent_closes() (child_guard.hpp) if it never reads it. No thread runs yet, so an
// entry may still fork.
struct host_context {
  int socket;
  std::string argument;
};

// Returns the process's exit code. An exception ends the process with host_exit_failed.
using host_entry = int (*)(host_context&);

// Replaces an entry of the same name. Thread-safe.
void register_host_entry(std::string name, host_entry entry);
// nullptr when no entry has that name.
host_entry find_host_entry(std::string_view name);

struct host_entry_registrar {
  host_entry_registrar(const char* name, host_entry entry) { register_host_entry(name, entry); }
};

}  // namespace thespian::detail::process
