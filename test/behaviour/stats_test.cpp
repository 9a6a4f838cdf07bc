// Port of Thespian's status/statistics tests: StatusRequest to an actor is answered by the
// framework with ActorStatus (address, type, parent, children, counts) and never reaches
// receive(); ActorSystem::status() answers with SystemStatus; both format for humans.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace stats_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

class Registered : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (m.is<thespian::StatusRequest>()) saw_status_request_ = true;
    if (is_text(m, "saw a status request?")) send(from, saw_status_request_);
    if (is_text(m, "echo")) send(from, std::string("echo"));
    if (is_text(m, "spawn two")) {
      children_.push_back(create_actor<Registered>());
      children_.push_back(create_actor<Registered>());
      send(from, children_);
    }
    if (is_text(m, "arm two")) {
      wakeup_after(std::chrono::seconds(60));
      wakeup_after(std::chrono::seconds(60));
      send(from, std::string("armed"));
    }
    co_return;
  }

 private:
  bool saw_status_request_ = false;
  std::vector<ActorAddress> children_;
};

class Unregistered : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message, ActorAddress) override { co_return; }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace stats_test

THESPIAN_ACTOR(stats_test::Registered);

using namespace stats_test;
using thespian_test::current_base;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

namespace {

thespian::ActorStatus status_of(thespian::ActorSystem& sys, const ActorAddress& actor) {
  return reply_as<thespian::ActorStatus>(sys.ask(actor, thespian::StatusRequest{}, patience));
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(stats, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(status_request_to_an_actor_returns_its_actor_status) {
  auto actor = sys.create_actor<Registered>();
  auto status = status_of(sys, actor);
  BOOST_TEST(status.address == actor);
}

BOOST_AUTO_TEST_CASE(status_request_never_reaches_receive) {
  auto actor = sys.create_actor<Registered>();
  (void)status_of(sys, actor);
  (void)status_of(sys, actor);
  BOOST_TEST(!reply_as<bool>(sys.ask(actor, "saw a status request?", patience)));
}

BOOST_AUTO_TEST_CASE(actor_status_names_a_registered_type_by_its_registered_name) {
  auto actor = sys.create_actor<Registered>();
  BOOST_TEST(status_of(sys, actor).type_name == "stats_test::Registered");
}

BOOST_AUTO_TEST_CASE(actor_status_names_an_unregistered_type_by_its_cpp_name) {
  auto actor = sys.create_actor<Unregistered>();
  const auto name = status_of(sys, actor).type_name;
  BOOST_TEST(contains(name, "Unregistered"), name);
}

BOOST_AUTO_TEST_CASE(actor_status_lists_children_and_names_the_parent) {
  auto parent = sys.create_actor<Registered>();
  auto children = reply_as<std::vector<ActorAddress>>(sys.ask(parent, "spawn two", patience));
  BOOST_REQUIRE(children.size() == 2u);
  auto parent_status = status_of(sys, parent);
  const std::set<ActorAddress> listed(parent_status.children.begin(), parent_status.children.end());
  BOOST_TEST(listed == (std::set<ActorAddress>(children.begin(), children.end())),
             boost::test_tools::per_element());
  for (const auto& child : children) {
    auto child_status = status_of(sys, child);
    BOOST_TEST(child_status.parent == parent);
    BOOST_TEST(child_status.children.empty());
  }
}

BOOST_AUTO_TEST_CASE(actor_status_counts_received_and_sent_messages) {
  auto actor = sys.create_actor<Registered>();
  const auto before = status_of(sys, actor);
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(text_of(sys.ask(actor, "echo", patience)) == "echo");
  const auto after = status_of(sys, actor);
  BOOST_TEST(after.received >= before.received + 3);
  BOOST_TEST(after.sent >= before.sent + 3);
}

BOOST_AUTO_TEST_CASE(actor_status_counts_pending_wakeups) {
  auto actor = sys.create_actor<Registered>();
  BOOST_TEST(status_of(sys, actor).pending_wakeups == 0u);
  BOOST_REQUIRE(text_of(sys.ask(actor, "arm two", patience)) == "armed");
  BOOST_TEST(status_of(sys, actor).pending_wakeups == 2u);
}

BOOST_AUTO_TEST_CASE(actor_status_formats_on_several_readable_lines) {
  auto actor = sys.create_actor<Registered>();
  const auto text = status_of(sys, actor).format();
  BOOST_TEST(!text.empty());
  BOOST_TEST(contains(text, "\n"), text);
  BOOST_TEST(contains(text, "stats_test::Registered"), text);
  BOOST_TEST(contains(text, actor.to_string()), text);
}

BOOST_AUTO_TEST_CASE(system_status_reports_the_base_and_the_common_capabilities) {
  auto status = sys.status();
  BOOST_TEST(status.base == current_base());
  BOOST_TEST(status.capabilities.count("Thespian Version") == 1u);
  BOOST_TEST(status.capabilities.count("C++ Standard") == 1u);
}

BOOST_AUTO_TEST_CASE(system_status_actor_count_follows_creation_and_exit) {
  const auto before = sys.status().actor_count;
  auto a = sys.create_actor<Registered>();
  auto b = sys.create_actor<Registered>();
  auto c = sys.create_actor<Unregistered>();
  BOOST_TEST(sys.status().actor_count == before + 3);
  sys.tell(b, thespian::ActorExitRequest{});
  BOOST_TEST(thespian_test::wait_until(sys, [&] { return sys.status().actor_count == before + 2; }));
}

BOOST_AUTO_TEST_CASE(system_status_formats_on_several_readable_lines) {
  (void)sys.create_actor<Registered>({}, "status-named");
  const auto text = sys.status().format();
  BOOST_TEST(!text.empty());
  BOOST_TEST(contains(text, "\n"), text);
  BOOST_TEST(contains(text, current_base()), text);
  BOOST_TEST(contains(text, "status-named"), text);
}

BOOST_AUTO_TEST_SUITE_END()
