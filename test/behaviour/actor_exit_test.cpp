// How actors leave: a recursive ActorExitRequest reaches every descendant first, parents hear of
// each child, a subtree can be stopped alone, and shutdown() stops children before parents.
// Every actor of a tree reports its lifecycle events to the test by message, each stamped with
// the steady clock (one clock for every process of the host), and the tests read them in time
// order: on the multi-process bases the actors live in other processes, and messages from
// different senders may arrive in any order.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <cereal/types/string.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace actor_exit_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// Build a tree below the receiving node; it answers "built" once every descendant has. Every
// node reports its events to `reporter`.
struct Build {
  std::string name;
  int depth = 0;
  int fanout = 0;
  ActorAddress reporter;
  template <class A> void serialize(A& ar) { ar(name, depth, fanout, reporter); }
};

// "exit:p.0", "child-exited:p", "dtor:p.0.1", ... and when it happened.
struct Event {
  std::string what;
  std::int64_t at_ns = 0;  // steady_clock
  template <class A> void serialize(A& ar) { ar(what, at_ns); }
};

class Node : public thespian::Actor {
 public:
  ~Node() override { report("dtor:" + name_); }

  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* build = m.get<Build>()) {
      name_ = build->name;
      reporter_ = build->reporter;
      requester_ = from;
      if (build->depth == 0) {
        send(from, std::string("built"));
      } else {
        pending_ = build->fanout;
        for (int i = 0; i < build->fanout; ++i) {
          auto child = create_actor<Node>();
          children_.push_back(child);
          send(child, Build{name_ + "." + std::to_string(i), build->depth - 1, build->fanout,
                            reporter_});
        }
      }
    } else if (is_text(m, "built")) {
      if (--pending_ == 0) send(requester_, std::string("built"));
    } else if (is_text(m, "children")) {
      send(from, children_);
    } else if (is_text(m, "ping")) {
      send(from, name_);
    } else if (m.is<thespian::ActorExitRequest>()) {
      report("exit:" + name_);
    } else if (m.is<thespian::ChildActorExited>()) {
      report("child-exited:" + name_);
    }
    co_return;
  }

 private:
  void report(std::string what) {
    if (!reporter_) return;
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    send(reporter_, Event{std::move(what), std::chrono::nanoseconds(now).count()});
  }

  std::string name_;
  ActorAddress reporter_;
  ActorAddress requester_;
  int pending_ = 0;
  std::vector<ActorAddress> children_;
};

// Names of every node of a tree of the given shape, root first.
std::vector<std::string> tree_names(const std::string& root, int depth, int fanout) {
  std::vector<std::string> names{root};
  if (depth > 0) {
    for (int i = 0; i < fanout; ++i) {
      for (auto& n : tree_names(root + "." + std::to_string(i), depth - 1, fanout)) {
        names.push_back(std::move(n));
      }
    }
  }
  return names;
}

std::string parent_of(const std::string& name) { return name.substr(0, name.rfind('.')); }

// Events in the order they happened.
struct timeline {
  std::vector<std::string> events;
  std::size_t count(const std::string& event) const {
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), event));
  }
  bool contains(const std::string& event) const { return count(event) > 0; }
  // Position of the first occurrence, or size() when absent.
  std::size_t index_of(const std::string& event) const {
    return static_cast<std::size_t>(std::find(events.begin(), events.end(), event) -
                                    events.begin());
  }
};

// The events reported to `reporter` until `last` has come (or nothing came for a while).
timeline events_until(thespian::ExternalContext& reporter, const std::string& last) {
  std::vector<Event> got;
  bool seen_last = false;
  while (!seen_last) {
    auto m = reporter.listen(thespian_test::patience);
    if (!m) break;
    if (const auto* e = m->get<Event>()) {
      got.push_back(*e);
      seen_last = e->what == last;
    }
  }
  // Events reported in the same breath as `last` (by other actors) may still be on their way.
  while (auto m = reporter.listen(thespian_test::brief)) {
    if (const auto* e = m->get<Event>()) got.push_back(*e);
  }
  std::stable_sort(got.begin(), got.end(),
                   [](const Event& a, const Event& b) { return a.at_ns < b.at_ns; });
  timeline result;
  for (auto& e : got) result.events.push_back(std::move(e.what));
  return result;
}

}  // namespace actor_exit_test

THESPIAN_MESSAGE(actor_exit_test::Build);
THESPIAN_MESSAGE(actor_exit_test::Event);

using namespace actor_exit_test;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(actor_exit, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(recursive_exit_request_reaches_children_before_their_parent) {
  auto reporter = sys.private_context();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 1, 2, reporter.address()}, patience)) == "built");
  sys.tell(root, thespian::ActorExitRequest{});
  const auto events = events_until(reporter, "dtor:p");
  BOOST_REQUIRE(events.contains("dtor:p"));
  BOOST_TEST(events.index_of("exit:p.0") < events.index_of("exit:p"));
  BOOST_TEST(events.index_of("exit:p.1") < events.index_of("exit:p"));
  BOOST_TEST(events.index_of("dtor:p.0") < events.index_of("dtor:p"));
  BOOST_TEST(events.index_of("dtor:p.1") < events.index_of("dtor:p"));
}

BOOST_AUTO_TEST_CASE(parent_gets_child_actor_exited_for_each_child_on_recursive_exit) {
  auto reporter = sys.private_context();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 1, 3, reporter.address()}, patience)) == "built");
  sys.tell(root, thespian::ActorExitRequest{});
  const auto events = events_until(reporter, "dtor:p");
  BOOST_REQUIRE(events.contains("dtor:p"));
  BOOST_TEST(events.count("child-exited:p") == 3u);
}

BOOST_AUTO_TEST_CASE(grandchildren_exit_before_children_before_the_root) {
  auto reporter = sys.private_context();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 2, 1, reporter.address()}, patience)) == "built");
  sys.tell(root, thespian::ActorExitRequest{});
  const auto events = events_until(reporter, "dtor:p");
  BOOST_REQUIRE(events.contains("dtor:p"));
  BOOST_TEST(events.index_of("exit:p.0.0") < events.index_of("exit:p.0"));
  BOOST_TEST(events.index_of("exit:p.0") < events.index_of("exit:p"));
  BOOST_TEST(events.index_of("dtor:p.0.0") < events.index_of("dtor:p.0"));
  BOOST_TEST(events.index_of("dtor:p.0") < events.index_of("dtor:p"));
}

BOOST_AUTO_TEST_CASE(stopping_one_child_stops_only_its_subtree) {
  auto reporter = sys.private_context();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 2, 2, reporter.address()}, patience)) == "built");
  auto children = reply_as<std::vector<ActorAddress>>(sys.ask(root, "children", patience));
  BOOST_REQUIRE(children.size() == 2u);
  sys.tell(children[0], thespian::ActorExitRequest{});
  const auto events = events_until(reporter, "dtor:p.0");
  BOOST_REQUIRE(events.contains("dtor:p.0"));
  BOOST_TEST(events.contains("dtor:p.0.0"));
  BOOST_TEST(events.contains("dtor:p.0.1"));
  BOOST_TEST(!events.contains("dtor:p.1"));
  BOOST_TEST(!events.contains("dtor:p"));
  BOOST_TEST(text_of(sys.ask(children[1], "ping", patience)) == "p.1");
  BOOST_TEST(text_of(sys.ask(root, "ping", patience)) == "p");
}

// The tree lives in a system of its own; the reporter, in the fixture's, outlives it.
BOOST_AUTO_TEST_CASE(shutdown_stops_children_before_their_parents) {
  auto reporter = sys.private_context();
  thespian::ActorSystem own(thespian_test::current_base(), thespian_test::system_caps());
  auto root = own.create_actor<Node>();
  BOOST_REQUIRE(text_of(own.ask(root, Build{"p", 2, 2, reporter.address()}, patience)) == "built");
  own.shutdown();
  const auto events = events_until(reporter, "dtor:p");
  const auto names = tree_names("p", 2, 2);
  for (const auto& name : names) {
    BOOST_TEST_CONTEXT("node " << name) {
      BOOST_TEST(events.contains("dtor:" + name));
      if (name != "p") {
        BOOST_TEST(events.index_of("dtor:" + name) < events.index_of("dtor:" + parent_of(name)));
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
