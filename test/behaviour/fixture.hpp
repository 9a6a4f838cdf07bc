// Shared helpers for the behaviour tests: which system base this run targets (THESPIAN_TEST_BASE),
// a fixture owning one system per test case, the suite's timeouts, waits on conditions with
// deadlines (never fixed sleeps), and a few tiny actors that many suites use. Tests observe actors
// only through messages (replies, reports to the test's address, the system's status): on the
// multi-process bases an actor's memory is not the test's.
// Message types declared here are registered for the multi-process bases in fixture.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <thespian/thespian.hpp>

namespace thespian_test {

using namespace std::chrono_literals;

// The system base this run of the executable targets; "simpleSystemBase" when unset.
inline std::string current_base() {
  const char* env = std::getenv("THESPIAN_TEST_BASE");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string("simpleSystemBase");
}

inline bool is_multithread() { return current_base() == "multithreadBase"; }

// The bases that run every actor in a process of its own: every message crosses a process
// boundary (so its type must be registered with THESPIAN_MESSAGE), and nothing an actor writes to
// memory is visible to the test process.
inline bool is_multiprocess() { return current_base().rfind("multiproc", 0) == 0; }

// The bases whose admin is a daemon on an "Admin Port": it outlives the ActorSystem object
// (only shutdown() ends it), and a later system on the same port joins it.
inline bool has_daemon_admin() {
  return current_base() == "multiprocTCPBase" || current_base() == "multiprocUDPBase";
}

// A loopback port that was free a moment ago (the OS's choice of an ephemeral port).
std::int64_t free_port();

// The capabilities this run adds to every test's system (THESPIAN_TEST_CAPS, e.g.
// "Admin Routing=true;Outbound Only=true"): true/false become booleans, integers integers,
// anything else a string. Lets one suite run on a base in several configurations.
thespian::Capabilities run_caps();

// The capabilities a test's system starts with: `extra`, plus the run's (THESPIAN_TEST_CAPS),
// plus (on a daemon-admin base) an Admin Port of its own, so that no two systems of the suite
// share an admin by accident.
inline thespian::Capabilities system_caps(thespian::Capabilities extra = {}) {
  for (auto& [name, value] : run_caps()) extra.try_emplace(name, value);
  if (has_daemon_admin() && !extra.contains("Admin Port")) extra["Admin Port"] = free_port();
  return extra;
}

// For waits that should succeed: generous, so a loaded machine does not fail the suite.
constexpr std::chrono::nanoseconds patience = 5s;
// For waits that must expire (nothing is expected to arrive).
constexpr std::chrono::nanoseconds brief = 200ms;
// The step of wait_until's polling loop.
constexpr std::chrono::nanoseconds poll_step = 10ms;

// One system per test case, shut down when the test case ends.
struct system_fixture {
  thespian::ActorSystem sys{current_base(), system_caps()};

  system_fixture() = default;
  system_fixture(const system_fixture&) = delete;
  system_fixture& operator=(const system_fixture&) = delete;
  ~system_fixture() {
    try {
      sys.shutdown();
    } catch (const std::exception& e) {
      BOOST_ERROR("ActorSystem::shutdown() threw: " << e.what());
    } catch (...) {
      BOOST_ERROR("ActorSystem::shutdown() threw a non-standard exception");
    }
  }
};

// Waits until pred() holds or the deadline passes; returns pred()'s last value. It listens on a
// private endpoint of its own between checks, which is what lets simpleSystemBase run its actors
// (and fire wakeups) meanwhile; on threaded bases the listen is merely the polling step.
template <class Pred>
bool wait_until(thespian::ActorSystem& sys, Pred&& pred,
                std::chrono::nanoseconds timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (pred()) return true;
  auto driver = sys.private_context();
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    (void)driver.listen(poll_step);
  }
}

// The same without a system to drive (for instance after it has shut down): polls pred().
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::nanoseconds timeout = patience) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(poll_step);
  }
}

// The reply as a T; fails the test case (with what arrived instead) when it is not one.
template <class T>
T reply_as(const std::optional<thespian::Message>& reply) {
  BOOST_REQUIRE_MESSAGE(reply.has_value(), "expected a reply, but nothing arrived in time");
  BOOST_REQUIRE_MESSAGE(reply->is<T>(), "the reply holds a " << reply->type_name());
  return reply->as<T>();
}

inline bool is_text(const thespian::Message& m, std::string_view text) {
  const auto* s = m.get<std::string>();
  return s != nullptr && *s == text;
}

inline bool is_text(const std::optional<thespian::Message>& m, std::string_view text) {
  return m.has_value() && is_text(*m, text);
}

inline std::string text_of(const std::optional<thespian::Message>& m) {
  if (!m) return "<nothing>";
  if (const auto* s = m->get<std::string>()) return *s;
  return "<a " + m->type_name() + ">";
}

// The messages the framework itself sends to actors; simple test actors ignore them.
inline bool is_system_message(const thespian::Message& m) {
  return m.is<thespian::ActorExitRequest>() || m.is<thespian::ChildActorExited>() ||
         m.is<thespian::PoisonMessage>() || m.is<thespian::DeadEnvelope>() ||
         m.is<thespian::WakeupMessage>() || m.is<thespian::WatchMessage>() ||
         m.is<thespian::ActorSystemConventionUpdate>() || m.is<thespian::LoadedSource>() ||
         m.is<thespian::UnloadedSource>() || m.is<thespian::ValidateSource>() ||
         m.is<thespian::ValidatedSource>() || m.is<thespian::StatusRequest>();
}

// Replies every application message to its sender, unchanged.
class echo_actor : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message m, thespian::ActorAddress from) override {
    if (!is_system_message(m)) send(from, m);
    co_return;
  }
};

// Takes every message and never answers.
class silent_actor : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

// What dead_letter_reporter reports for each DeadEnvelope it handles (system messages are not
// for the outside, so it is re-wrapped in a type of the tests' own).
struct DeadLetter {
  thespian::ActorAddress dead_address;
  thespian::Message dead_message;
  template <class A> void serialize(A& ar) { ar(dead_address, dead_message); }
};

// The system's dead-letter handler while registered: "register" makes it the handler and
// reports every DeadEnvelope to whoever registered it; "deregister" stops handling; "leave"
// makes it exit.
class dead_letter_reporter : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message m, thespian::ActorAddress from) override {
    if (is_text(m, "register")) {
      reporter_ = from;
      handle_dead_letters();
      send(from, std::string("registered"));
    } else if (is_text(m, "deregister")) {
      handle_dead_letters(false);
      send(from, std::string("deregistered"));
    } else if (is_text(m, "leave")) {
      send(my_address(), thespian::ActorExitRequest{});
    } else if (const auto* dead = m.get<thespian::DeadEnvelope>()) {
      if (reporter_) send(reporter_, DeadLetter{dead->dead_address, dead->dead_message});
    }
    co_return;
  }

 private:
  thespian::ActorAddress reporter_;
};

}  // namespace thespian_test
