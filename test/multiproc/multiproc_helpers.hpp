// What the end-to-end tests of the multi-process bases share: the processes below this one
// (read from /proc, for leak checks), waits with deadlines, and small actors that report their
// process id, create children, die on request or collect dead letters.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "thespian/thespian.hpp"

namespace multiproc_test {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;

inline constexpr auto patience = 10s;

struct Pid {
  std::int64_t value = 0;
  template <class A> void serialize(A& ar) { ar(value); }
};

// Every process below this one (actor processes are children of the admin's forkserver, the
// admin a child of ours), except our process-wide forkserver, which lasts as long as the test
// program. Read from /proc: a process is ours if a chain of parents leads here.
std::set<pid_t> descendants();
// The same without zombies: processes that still run.
std::set<pid_t> live_descendants();
// Reaps, by pid, the zombies of processes that were reparented to this one (the test program
// is a child subreaper, test/multiproc/main.cpp): e.g. actor processes whose admin was killed.
// Children the library started itself are left to it.
void reap_orphans();
// The parent of `pid` (0 when it is gone).
pid_t parent_of(pid_t pid);
// The nearest process at or above `pid` that leads its own session (0 if none): for an actor
// process of multiprocTCPBase, its admin (a daemon calls setsid), whatever started the actor
// (the admin itself, or the admin's forkserver).
pid_t session_leader_above(pid_t pid);
// The process at or above `pid` whose parent is this program or its forkserver (0 if none):
// for an actor process of multiprocQueueBase, its admin.
pid_t child_of_ours_above(pid_t pid);

bool eventually(const std::function<bool()>& pred, std::chrono::nanoseconds timeout = patience);

// Collects the text of every log record at WARNING or above that reaches the program's sink
// (from any process of the system: they travel through the logger).
class warning_collector {
 public:
  thespian::SystemOptions options() const;
  std::vector<std::string> texts() const;

 private:
  struct shared_texts {
    mutable std::mutex mutex;
    std::vector<std::string> texts;
  };
  std::shared_ptr<shared_texts> shared_ = std::make_shared<shared_texts>();
};

// Checks that no warning says shutdown() waited for an admin that had exited early; returns
// whether one says an actor's ActorExitRequest to the admin was ignored.
bool check_admin_shut_down_in_order(const std::vector<std::string>& warnings);

inline bool is_text(const Message& m, std::string_view text) {
  const auto* s = m.get<std::string>();
  return s != nullptr && *s == text;
}

// The whole text of a file ("" while it does not exist).
std::string file_text(const std::filesystem::path& path);

// Answers "pid" with its process id, echoes other text; "die": SIGKILL; "exit": exit(3).
class Where : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "pid")) {
      send(from, Pid{::getpid()});
    } else if (is_text(m, "die")) {
      ::raise(SIGKILL);
    } else if (is_text(m, "exit")) {
      std::exit(3);
    } else if (m.is<std::string>()) {
      send(from, m);
    }
    co_return;
  }
};

// The system's dead-letter handler once told "register": reports each dead letter's text.
class Undertaker : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "register")) {
      reporter_ = from;
      handle_dead_letters();
      send(from, std::string("registered"));
    } else if (const auto* dead = m.get<thespian::DeadEnvelope>()) {
      const auto* text = dead->dead_message.get<std::string>();
      if (reporter_) send(reporter_, "dead letter: " + (text ? *text : dead->dead_message.type_name()));
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

// Creates a Where child on "spawn" and answers with its address; reports ChildActorExited to
// whoever asked for the child.
class Parent : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn")) {
      asker_ = from;
      auto child = create_actor<Where>();
      send(from, child);
    } else if (const auto* exited = m.get<thespian::ChildActorExited>()) {
      if (asker_) send(asker_, std::string("child exited: ") + exited->child.to_string());
    } else if (is_text(m, "pid")) {
      send(from, Pid{::getpid()});
    }
    co_return;
  }

 private:
  ActorAddress asker_;
};

}  // namespace multiproc_test
