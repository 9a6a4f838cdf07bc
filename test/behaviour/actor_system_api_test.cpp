// Port of Thespian's actor system API tests: what ActorSystem itself promises (its base, its
// capabilities, shutdown, errors for misuse, private contexts) independently of any actor logic.
#include <cstdint>
#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace actor_system_api_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

// An address for a Census to report its destruction to.
struct Observe {
  ActorAddress witness;
  template <class A> void serialize(A& ar) { ar(witness); }
};

// Says "gone" to its witness when destroyed (by message: on the multi-process bases it lives in
// another process); can create a child of its own kind and stop the whole system.
class Census : public thespian::Actor {
 public:
  ~Census() override {
    if (witness_) send(witness_, std::string("gone"));
  }
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* observe = m.get<Observe>()) {
      witness_ = observe->witness;
      send(from, std::string("observed"));
    }
    if (is_text(m, "spawn")) send(from, create_actor<Census>());
    if (is_text(m, "ping")) send(from, std::string("pong"));
    if (is_text(m, "capabilities")) send(from, system_capabilities());
    if (is_text(m, "shutdown")) actor_system_shutdown();
    co_return;
  }

 private:
  ActorAddress witness_;
};

}  // namespace actor_system_api_test

THESPIAN_MESSAGE(actor_system_api_test::Observe);

using namespace actor_system_api_test;
using thespian_test::brief;
using thespian_test::current_base;
using thespian_test::patience;
using thespian_test::reply_as;

namespace {

// Has `actor` report its destruction to `witness`; true once it has agreed.
bool observe(thespian::ActorSystem& sys, const ActorAddress& actor,
             const thespian::ExternalContext& witness) {
  return is_text(sys.ask(actor, Observe{witness.address()}, patience), "observed");
}

// Collects "gone" reports until `expected` have come or nothing came within `wait`.
int gone_reports(thespian::ExternalContext& witness, int expected,
                 std::chrono::nanoseconds wait) {
  int gone = 0;
  while (gone < expected) {
    auto m = witness.listen(wait);
    if (!m) break;
    if (is_text(*m, "gone")) ++gone;
  }
  return gone;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(actor_system_api, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(system_reports_the_base_it_was_created_with) {
  BOOST_TEST(std::string(sys.base()) == current_base());
}

BOOST_AUTO_TEST_CASE(unknown_base_name_throws_actor_system_startup_failure) {
  BOOST_CHECK_THROW(thespian::ActorSystem("noSuchSystemBase"), thespian::ActorSystemStartupFailure);
}

BOOST_AUTO_TEST_CASE(shutdown_is_idempotent) {
  auto actor = sys.create_actor<Census>();
  BOOST_REQUIRE(is_text(sys.ask(actor, "ping", patience), "pong"));
  BOOST_CHECK_NO_THROW(sys.shutdown());
  BOOST_CHECK_NO_THROW(sys.shutdown());
  BOOST_CHECK_NO_THROW(sys.shutdown());
}

BOOST_AUTO_TEST_CASE(calls_after_shutdown_throw_actor_system_failure) {
  auto actor = sys.create_actor<Census>();
  sys.shutdown();
  BOOST_CHECK_THROW(sys.create_actor<Census>(), thespian::ActorSystemFailure);
  BOOST_CHECK_THROW(sys.tell(actor, "ping"), thespian::ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.ask(actor, "ping", brief), thespian::ActorSystemFailure);
}

// The actors report to a witness in the fixture's system, which outlives the one shut down.
// Their reports are sent before shutdown() returns, so a short wait collects them all.
BOOST_AUTO_TEST_CASE(shutdown_destroys_every_actor_including_children) {
  auto witness = sys.private_context();
  thespian::ActorSystem own(current_base(), thespian_test::system_caps());
  auto a = own.create_actor<Census>();
  auto b = own.create_actor<Census>();
  auto child = reply_as<ActorAddress>(own.ask(a, "spawn", patience));
  for (const auto& actor : {a, b, child}) BOOST_REQUIRE(observe(own, actor, witness));
  BOOST_TEST(!witness.listen(brief).has_value());
  own.shutdown();
  BOOST_TEST(gone_reports(witness, 3, brief) == 3);
}

BOOST_AUTO_TEST_CASE(destroying_the_system_shuts_it_down) {
  auto witness = sys.private_context();
  const auto caps = thespian_test::system_caps();
  ActorAddress a;
  {
    thespian::ActorSystem own(current_base(), caps);
    a = own.create_actor<Census>();
    auto child = reply_as<ActorAddress>(own.ask(a, "spawn", patience));
    for (const auto& actor : {a, child}) BOOST_REQUIRE(observe(own, actor, witness));
    BOOST_TEST(!witness.listen(brief).has_value());
  }
  if (thespian_test::has_daemon_admin()) {
    // BASES.md: this admin lives until shutdown(), so its actors do too; a later system on
    // the same Admin Port joins it and reaches them, and its shutdown() ends them all.
    BOOST_TEST(!witness.listen(brief).has_value());
    thespian::ActorSystem later(current_base(), caps);
    BOOST_TEST(thespian_test::text_of(later.ask(a, "ping", patience)) == "pong");
    later.shutdown();
  }
  BOOST_TEST(gone_reports(witness, 2, patience) == 2);
}

BOOST_AUTO_TEST_CASE(actor_can_shut_the_system_down) {
  auto witness = sys.private_context();
  thespian::ActorSystem own(current_base(), thespian_test::system_caps());
  auto a = own.create_actor<Census>();
  auto b = own.create_actor<Census>();
  for (const auto& actor : {a, b}) BOOST_REQUIRE(observe(own, actor, witness));
  own.tell(a, "shutdown");
  BOOST_TEST(gone_reports(witness, 2, patience) == 2);
}

BOOST_AUTO_TEST_CASE(tell_to_the_null_address_throws_invalid_actor_address) {
  BOOST_CHECK_THROW(sys.tell(ActorAddress{}, "hello"), thespian::InvalidActorAddress);
}

BOOST_AUTO_TEST_CASE(ask_to_the_null_address_throws_invalid_actor_address) {
  BOOST_CHECK_THROW((void)sys.ask(ActorAddress{}, "hello", brief), thespian::InvalidActorAddress);
}

BOOST_AUTO_TEST_CASE(listen_returns_nullopt_when_nothing_arrives) {
  (void)sys.create_actor<Census>();
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(!sys.listen(brief).has_value());
  BOOST_TEST((std::chrono::steady_clock::now() - start >= brief));
}

BOOST_AUTO_TEST_CASE(ask_from_a_thread_other_than_the_creator_is_safe) {
  auto actor = sys.create_actor<Census>();
  std::optional<Message> reply;
  std::thread other([&] { reply = sys.ask(actor, "ping", patience); });
  other.join();
  BOOST_TEST(thespian_test::text_of(reply) == "pong");
}

BOOST_AUTO_TEST_CASE(capabilities_given_at_construction_are_reported_to_users_and_actors) {
  thespian::ActorSystem own(current_base(), thespian_test::system_caps({{"Color", std::string("blue")}, {"Cores", std::int64_t{3}}}));
  auto caps = own.capabilities();
  BOOST_REQUIRE(caps.count("Color") == 1);
  BOOST_CHECK(caps.at("Color") == thespian::CapabilityValue(std::string("blue")));
  BOOST_REQUIRE(caps.count("Cores") == 1);
  BOOST_CHECK(caps.at("Cores") == thespian::CapabilityValue(std::int64_t{3}));

  auto actor = own.create_actor<Census>();
  auto seen = reply_as<thespian::Capabilities>(own.ask(actor, "capabilities", patience));
  BOOST_REQUIRE(seen.count("Color") == 1);
  BOOST_CHECK(seen.at("Color") == thespian::CapabilityValue(std::string("blue")));
  own.shutdown();
}

BOOST_AUTO_TEST_CASE(private_contexts_have_distinct_non_null_addresses) {
  auto one = sys.private_context();
  auto two = sys.private_context();
  BOOST_TEST(static_cast<bool>(one.address()));
  BOOST_TEST(static_cast<bool>(two.address()));
  BOOST_TEST(one.address() != two.address());
}

BOOST_AUTO_TEST_CASE(private_context_can_create_and_talk_to_actors) {
  auto ctx = sys.private_context();
  auto actor = ctx.create_actor<Census>();
  BOOST_TEST(thespian_test::text_of(ctx.ask(actor, "ping", patience)) == "pong");
  // The reply went to the context, not to the system's shared endpoint.
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(private_context_keeps_working_after_a_move) {
  auto actor = sys.create_actor<Census>();
  auto first = sys.private_context();
  const ActorAddress before = first.address();
  thespian::ExternalContext moved(std::move(first));
  BOOST_TEST(moved.address() == before);
  BOOST_TEST(thespian_test::text_of(moved.ask(actor, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(two_systems_live_side_by_side_independently) {
  thespian::ActorSystem other(current_base(), thespian_test::system_caps());
  auto here = sys.create_actor<Census>();
  auto there = other.create_actor<Census>();
  BOOST_TEST(here != there);
  BOOST_TEST(thespian_test::text_of(sys.ask(here, "ping", patience)) == "pong");
  BOOST_TEST(thespian_test::text_of(other.ask(there, "ping", patience)) == "pong");
  other.shutdown();
  BOOST_TEST(thespian_test::text_of(sys.ask(here, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_SUITE_END()
