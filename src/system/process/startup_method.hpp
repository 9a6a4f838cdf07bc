// The "Process Startup Method" capability: how a multi-process base starts an actor process.
// See docs/design.md "Processes" for what each one needs from the program.
#pragma once

#include <optional>
#include <string_view>

namespace thespian::detail::process {

enum class startup_method {
  spawn,       // posix_spawn of /proc/self/exe; needs serve_actor_process() in main()
  fork,        // fork() of the caller; only while the caller is single-threaded
  forkserver,  // fork() by a helper forked while the program was still single-threaded
};

// "spawn", "fork", "forkserver".
std::string_view name_of(startup_method method);
// The method named by a capability value; nullopt for any other text.
std::optional<startup_method> parse_startup_method(std::string_view name);

}  // namespace thespian::detail::process
