// Unit tests of external_endpoint (src/system/external_endpoint.cpp), where messages for code
// outside the actors wait: FIFO listen with a deadline, internal traffic filtered out (but
// PoisonMessage and status replies let through), and close() turning deliveries into failures.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "../support.hpp"
#include "system/external_endpoint.hpp"
#include "system/system_core.hpp"
#include "thespian/actor_system.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using thespian::detail::clock;
using thespian::detail::envelope;
using thespian::detail::envelope_kind;
using thespian::detail::external_endpoint;
using thespian::detail::system_core;

struct endpoint_fixture {
  unit_support::temp_dir dir;

  thespian::SystemOptions options() const {
    thespian::SystemOptions o;
    o.log_file = (dir / "thespian.log").string();
    o.log_threshold = "CRITICAL";
    return o;
  }
  std::shared_ptr<system_core> make_core(std::string_view base = "simpleSystemBase") const {
    return std::make_shared<system_core>(
        base, thespian::Capabilities{{"Thread Count", std::int64_t{1}}}, options());
  }
};

envelope user(Message m) { return envelope{std::move(m), ActorAddress{}, envelope_kind::user, 0}; }

// Deadline already passed: listen must not wait.
clock::time_point now() { return clock::now(); }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(system_external_endpoint, endpoint_fixture)

BOOST_AUTO_TEST_CASE(delivered_messages_are_listened_to_in_arrival_order) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  BOOST_TEST(ep->deliver(user(std::string("one"))));
  BOOST_TEST(ep->deliver(user(std::string("two"))));
  BOOST_TEST(ep->deliver(user(std::int64_t{3})));
  const auto a = ep->listen(now());
  const auto b = ep->listen(now());
  const auto c = ep->listen(now());
  BOOST_REQUIRE((a && b && c));
  BOOST_TEST(a->as<std::string>() == "one");
  BOOST_TEST(b->as<std::string>() == "two");
  BOOST_TEST(c->as<std::int64_t>() == 3);
}

BOOST_AUTO_TEST_CASE(listen_returns_nullopt_when_nothing_arrives_by_the_deadline) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  BOOST_TEST(!ep->listen(now()).has_value());
  BOOST_TEST(!ep->listen(clock::now() + 10ms).has_value());
}

BOOST_AUTO_TEST_CASE(listen_takes_each_message_once) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  BOOST_TEST(ep->deliver(user(std::string("only"))));
  BOOST_TEST(ep->listen(now()).has_value());
  BOOST_TEST(!ep->listen(now()).has_value());
}

BOOST_AUTO_TEST_CASE(internal_system_messages_are_accepted_but_never_listened_to) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  auto other = unit_support::make_recording_endpoint();
  BOOST_TEST(ep->deliver(user(thespian::ActorExitRequest{})));
  BOOST_TEST(ep->deliver(user(thespian::ChildActorExited{ActorAddress(other)})));
  BOOST_TEST(ep->deliver(user(thespian::WakeupMessage{1ms, Message{}})));
  BOOST_TEST(ep->deliver(user(thespian::WatchMessage{{4}})));
  BOOST_TEST(ep->deliver(user(thespian::StatusRequest{})));
  BOOST_TEST(!ep->listen(now()).has_value());
}

BOOST_AUTO_TEST_CASE(internal_envelope_kinds_are_accepted_but_never_listened_to) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  for (auto kind : {envelope_kind::wakeup, envelope_kind::ask_reply, envelope_kind::ask_timeout,
                    envelope_kind::child_wait}) {
    BOOST_TEST(ep->deliver(envelope{std::string("internal"), ActorAddress{}, kind, 1}));
  }
  BOOST_TEST(!ep->listen(now()).has_value());
}

BOOST_AUTO_TEST_CASE(poison_messages_and_status_replies_reach_the_listener) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  BOOST_TEST(ep->deliver(user(thespian::PoisonMessage{std::string("bad"), "details"})));
  BOOST_TEST(ep->deliver(user(thespian::ActorStatus{})));
  BOOST_TEST(ep->deliver(user(thespian::SystemStatus{})));
  const auto a = ep->listen(now());
  const auto b = ep->listen(now());
  const auto c = ep->listen(now());
  BOOST_REQUIRE((a && b && c));
  BOOST_TEST(a->is<thespian::PoisonMessage>());
  BOOST_TEST(b->is<thespian::ActorStatus>());
  BOOST_TEST(c->is<thespian::SystemStatus>());
}

BOOST_AUTO_TEST_CASE(close_discards_queued_messages_and_makes_deliveries_fail) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  BOOST_TEST(ep->deliver(user(std::string("queued"))));
  ep->close();
  BOOST_TEST(!ep->listen(now()).has_value());
  BOOST_TEST(!ep->deliver(user(std::string("after close"))));
}

BOOST_AUTO_TEST_CASE(message_sent_to_a_closed_endpoint_becomes_a_dead_letter) {
  auto core = make_core();
  auto ep = core->new_external_endpoint();
  ep->close();
  core->send(ActorAddress{}, ActorAddress(ep), std::string("nobody listens"));
  BOOST_TEST(core->dead_letter_count() == 1u);
}

BOOST_AUTO_TEST_CASE(listen_on_a_threaded_base_wakes_for_a_delivery_from_another_thread) {
  auto core = make_core("multithreadBase");
  auto ep = core->new_external_endpoint();
  std::thread sender([ep] { ep->deliver(user(std::string("from another thread"))); });
  const auto got = ep->listen(clock::now() + 5s);
  sender.join();
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->as<std::string>() == "from another thread");
}

BOOST_AUTO_TEST_CASE(each_new_endpoint_has_an_address_of_its_own) {
  auto core = make_core();
  auto a = core->new_external_endpoint();
  auto b = core->new_external_endpoint();
  BOOST_TEST((ActorAddress(a) != ActorAddress(b)));
  BOOST_TEST((ActorAddress(a) != ActorAddress(core->default_endpoint())));
  BOOST_TEST(ActorAddress(a).to_string() != ActorAddress(b).to_string());
  BOOST_TEST(unit_support::is_printable(ActorAddress(a).to_string()));
}

BOOST_AUTO_TEST_SUITE_END()
