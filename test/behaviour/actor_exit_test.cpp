// How actors leave: a recursive ActorExitRequest reaches every descendant first, parents hear of
// each child, a subtree can be stopped alone, and shutdown() stops children before parents.
// Every actor of a tree writes its lifecycle events to one log, which the tests read.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace actor_exit_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

thespian_test::event_log events;

// Build a tree below the receiving node; it answers "built" once every descendant has.
struct Build {
  std::string name;
  int depth = 0;
  int fanout = 0;
};

class Node : public thespian::Actor {
 public:
  ~Node() override { events.add("dtor:" + name_); }

  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* build = m.get<Build>()) {
      name_ = build->name;
      requester_ = from;
      if (build->depth == 0) {
        send(from, std::string("built"));
      } else {
        pending_ = build->fanout;
        for (int i = 0; i < build->fanout; ++i) {
          auto child = create_actor<Node>();
          children_.push_back(child);
          send(child, Build{name_ + "." + std::to_string(i), build->depth - 1, build->fanout});
        }
      }
    } else if (is_text(m, "built")) {
      if (--pending_ == 0) send(requester_, std::string("built"));
    } else if (is_text(m, "children")) {
      send(from, children_);
    } else if (is_text(m, "ping")) {
      send(from, name_);
    } else if (m.is<thespian::ActorExitRequest>()) {
      events.add("exit:" + name_);
    } else if (m.is<thespian::ChildActorExited>()) {
      events.add("child-exited:" + name_);
    }
    co_return;
  }

 private:
  std::string name_;
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

}  // namespace actor_exit_test

using namespace actor_exit_test;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(actor_exit, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(recursive_exit_request_reaches_children_before_their_parent) {
  events.clear();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 1, 2}, patience)) == "built");
  sys.tell(root, thespian::ActorExitRequest{});
  BOOST_REQUIRE(thespian_test::wait_until(sys, [] { return events.contains("dtor:p"); }));
  BOOST_TEST(events.index_of("exit:p.0") < events.index_of("exit:p"));
  BOOST_TEST(events.index_of("exit:p.1") < events.index_of("exit:p"));
  BOOST_TEST(events.index_of("dtor:p.0") < events.index_of("dtor:p"));
  BOOST_TEST(events.index_of("dtor:p.1") < events.index_of("dtor:p"));
}

BOOST_AUTO_TEST_CASE(parent_gets_child_actor_exited_for_each_child_on_recursive_exit) {
  events.clear();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 1, 3}, patience)) == "built");
  sys.tell(root, thespian::ActorExitRequest{});
  BOOST_REQUIRE(thespian_test::wait_until(sys, [] { return events.contains("dtor:p"); }));
  BOOST_TEST(events.count("child-exited:p") == 3u);
}

BOOST_AUTO_TEST_CASE(grandchildren_exit_before_children_before_the_root) {
  events.clear();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 2, 1}, patience)) == "built");
  sys.tell(root, thespian::ActorExitRequest{});
  BOOST_REQUIRE(thespian_test::wait_until(sys, [] { return events.contains("dtor:p"); }));
  BOOST_TEST(events.index_of("exit:p.0.0") < events.index_of("exit:p.0"));
  BOOST_TEST(events.index_of("exit:p.0") < events.index_of("exit:p"));
  BOOST_TEST(events.index_of("dtor:p.0.0") < events.index_of("dtor:p.0"));
  BOOST_TEST(events.index_of("dtor:p.0") < events.index_of("dtor:p"));
}

BOOST_AUTO_TEST_CASE(stopping_one_child_stops_only_its_subtree) {
  events.clear();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 2, 2}, patience)) == "built");
  auto children = reply_as<std::vector<ActorAddress>>(sys.ask(root, "children", patience));
  BOOST_REQUIRE(children.size() == 2u);
  sys.tell(children[0], thespian::ActorExitRequest{});
  BOOST_REQUIRE(thespian_test::wait_until(sys, [] { return events.contains("dtor:p.0"); }));
  BOOST_TEST(events.contains("dtor:p.0.0"));
  BOOST_TEST(events.contains("dtor:p.0.1"));
  BOOST_TEST(!events.contains("dtor:p.1"));
  BOOST_TEST(!events.contains("dtor:p"));
  BOOST_TEST(text_of(sys.ask(children[1], "ping", patience)) == "p.1");
  BOOST_TEST(text_of(sys.ask(root, "ping", patience)) == "p");
}

BOOST_AUTO_TEST_CASE(shutdown_stops_children_before_their_parents) {
  events.clear();
  auto root = sys.create_actor<Node>();
  BOOST_REQUIRE(text_of(sys.ask(root, Build{"p", 2, 2}, patience)) == "built");
  sys.shutdown();
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
