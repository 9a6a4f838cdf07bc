// Implements process_launcher.hpp.
#include "system/process/process_launcher.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "system/process/fork_launcher.hpp"
#include "system/process/host_marker.hpp"
#include "system/process/spawn_launcher.hpp"
#include "system/process/thread_count.hpp"
#include "thespian/errors.hpp"

namespace thespian::detail::process {
namespace {

struct shared_state {
  std::mutex mutex;
  std::shared_ptr<forkserver> server;
};

shared_state& shared() {
  static shared_state s;
  return s;
}

}  // namespace

std::shared_ptr<forkserver> start_shared_forkserver(std::size_t pool) {
  auto& s = shared();
  {
    std::lock_guard lock(s.mutex);
    if (s.server) return s.server;
  }
  // Forked without the lock held: the forkserver and every process it forks would otherwise
  // inherit a locked mutex, and an actor process that starts a forkserver of its own (the
  // admin does) would wait on it forever. Forking needs a single thread, so no other thread
  // can race us here.
  auto started = forkserver::start(pool);
  std::lock_guard lock(s.mutex);
  if (!s.server) s.server = std::move(started);
  return s.server;
}

void stop_shared_forkserver() {
  std::shared_ptr<forkserver> server;
  {
    std::lock_guard lock(shared().mutex);
    server.swap(shared().server);
  }
}

std::size_t prefork_pool_size() {
  constexpr std::size_t default_pool = 2;
  const char* text = std::getenv("THESPIAN_PREFORK_POOL");
  if (text == nullptr) return default_pool;
  std::uint64_t parsed = 0;
  if (!absl::SimpleAtoi(absl::string_view(text), &parsed)) {
    throw ActorSystemStartupFailure(absl::StrCat(
        "environment variable THESPIAN_PREFORK_POOL=\"", text, "\" is not a number"));
  }
  return static_cast<std::size_t>(std::min<std::uint64_t>(parsed, 64));
}

std::shared_ptr<forkserver> shared_forkserver() {
  auto& s = shared();
  std::lock_guard lock(s.mutex);
  return s.server;
}

startup_method default_startup_method() {
  if (shared_forkserver()) return startup_method::forkserver;
  const auto threads = current_thread_count();
  if (threads == 1) {
    start_shared_forkserver();
    return startup_method::forkserver;
  }
  if (actor_host_hook_installed()) return startup_method::spawn;
  throw ActorSystemStartupFailure(absl::StrCat(
      "no Process Startup Method can work here: the process already runs ", threads,
      " threads, so neither 'fork' nor a new forkserver is safe, and 'spawn' needs "
      "thespian::serve_actor_process(argc, argv) as the first line of main(). Add that call, or "
      "create the first multi-process ActorSystem before starting any thread"));
}

child_process launch_actor_process(startup_method method) {
  switch (method) {
    case startup_method::spawn: return spawn_actor_process();
    case startup_method::fork: return fork_actor_process();
    case startup_method::forkserver: return start_shared_forkserver()->launch();
  }
  throw ActorSystemStartupFailure("unknown Process Startup Method");
}

void start_actor_host(child_process& child, const bootstrap_request& request,
                      std::chrono::steady_clock::time_point deadline) {
  const auto where = absl::StrCat("actor process ", child.pid(), " for '", request.entry, "'");
  try {
    write_bootstrap(child.socket(), request, deadline);
  } catch (const std::system_error& e) {
    throw ActorSystemStartupFailure(absl::StrCat(where, ": sending the bootstrap failed: ", e.what()));
  }
  auto reply = read_bootstrap_reply(child.socket(), deadline);
  if (!reply.value) {
    switch (reply.error) {
      case bootstrap_read_error::closed:
        throw ActorSystemStartupFailure(absl::StrCat(where, " ended before it answered"));
      case bootstrap_read_error::timed_out:
        throw ActorSystemStartupFailure(absl::StrCat(where, " did not answer in time"));
      case bootstrap_read_error::malformed:
        throw ActorSystemStartupFailure(absl::StrCat(where, " answered garbage: ", reply.why));
    }
  }
  switch (reply.value->result) {
    case bootstrap_reply::outcome::ready: return;
    case bootstrap_reply::outcome::unknown_entry:
    case bootstrap_reply::outcome::entry_failed:
      throw InvalidActorSpecification(reply.value->detail);
    case bootstrap_reply::outcome::bad_request:
      throw ActorSystemStartupFailure(absl::StrCat(where, ": ", reply.value->detail));
  }
  throw ActorSystemStartupFailure(absl::StrCat(where, ": unknown bootstrap outcome"));
}

}  // namespace thespian::detail::process
