// Implements actor_host.hpp. An actor type is only constructed and held until the parent goes
// away: the transport that will carry its messages is the next step (docs/design.md
// "Processes").
#include "system/process/actor_host.hpp"

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/actor_registry.hpp"
#include "system/process/bootstrap.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/host_entry.hpp"

namespace thespian::detail::process {
namespace {

[[noreturn]] void end_process(int code) {
  std::fflush(nullptr);
  ::_exit(code);
}

// Tells the parent; a parent that is gone already cannot be told, and we end either way.
void answer(int fd, bootstrap_reply::outcome result, std::string detail) {
  try {
    bootstrap_reply reply{result, std::move(detail)};
    write_bootstrap(fd, reply, deadline_clock::now() + std::chrono::seconds(5));
  } catch (const std::exception&) {
  }
}

[[noreturn]] void run_entry(host_entry entry, const std::string& entry_name, int fd,
                            std::string argument) {
  answer(fd, bootstrap_reply::outcome::ready, {});
  host_context context{fd, std::move(argument)};
  try {
    end_process(entry(context));
  } catch (const std::exception& e) {
    // The parent waits for the entry's answer and may have no stderr to read (a daemon admin's
    // children write to /dev/null): the reason goes both ways.
    std::fprintf(stderr, "thespian actor process %d: host entry failed: %s\n", ::getpid(), e.what());
    answer(fd, bootstrap_reply::outcome::entry_failed,
           absl::StrCat("its host entry '", entry_name, "' threw: ", e.what()));
  } catch (...) {
    std::fprintf(stderr, "thespian actor process %d: host entry failed\n", ::getpid());
    answer(fd, bootstrap_reply::outcome::entry_failed,
           absl::StrCat("its host entry '", entry_name, "' threw a non-standard exception"));
  }
  end_process(host_exit_failed);
}

[[noreturn]] void run_actor(const actor_type& type, const std::string& name, int fd) {
  std::unique_ptr<Actor> actor;
  try {
    actor = type.make();
  } catch (const std::exception& e) {
    answer(fd, bootstrap_reply::outcome::entry_failed,
           absl::StrCat("the constructor of actor type '", name, "' threw: ", e.what()));
    end_process(host_exit_failed);
  }
  answer(fd, bootstrap_reply::outcome::ready, {});
  // Until the transport plugs in here, the actor only lives as long as its parent does.
  wait_for_peer_close(fd);
  actor.reset();
  end_process(host_exit_ok);
}

}  // namespace

void run_actor_host(unique_fd socket) {
  const int fd = socket.get();
  auto request = read_bootstrap_request(fd, deadline_clock::now() + bootstrap_wait);
  if (!request.value) {
    if (request.error == bootstrap_read_error::malformed) {
      answer(fd, bootstrap_reply::outcome::bad_request,
             absl::StrCat("malformed bootstrap request: ", request.why));
    }
    // A parent that closed before asking anything is simply gone.
    end_process(request.error == bootstrap_read_error::closed ? host_exit_ok
                                                              : host_exit_bad_bootstrap);
  }
  const std::string& name = request.value->entry;
  if (host_entry entry = find_host_entry(name)) {
    run_entry(entry, name, fd, std::move(request.value->argument));
  }
  if (const actor_type* type = find_actor_type(name)) run_actor(*type, name, fd);
  answer(fd, bootstrap_reply::outcome::unknown_entry,
         absl::StrCat("no actor type (THESPIAN_ACTOR) or host entry is registered as '", name,
                      "' in this program"));
  end_process(host_exit_unknown_entry);
}

}  // namespace thespian::detail::process
