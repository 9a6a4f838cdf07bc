// Unit tests of ActorSystem and ExternalContext as thin faces of a system_core
// (src/system/actor_system.cpp): every call is refused once the system is shut down, the null
// address is refused, private contexts have endpoints of their own and close them when destroyed.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include <asio/awaitable.hpp>

#include "../support.hpp"
#include "thespian/actor_system.hpp"
#include "thespian/errors.hpp"

namespace actor_system_test {

// Answers every string with the same string, to the sender.
class Echo : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message m, thespian::ActorAddress from) override {
    if (m.is<std::string>()) send(from, m);
    co_return;
  }
};

}  // namespace actor_system_test

THESPIAN_ACTOR(actor_system_test::Echo);

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::ActorSystem;
using thespian::Message;
using unit_support::contains;

struct system_fixture {
  unit_support::temp_dir dir;
  thespian::SystemOptions options() const {
    thespian::SystemOptions o;
    o.log_file = (dir / "thespian.log").string();
    o.log_threshold = "CRITICAL";
    return o;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(system_actor_system, system_fixture)

BOOST_AUTO_TEST_CASE(default_base_is_simple_system_base) {
  ActorSystem sys;
  BOOST_TEST(sys.base() == "simpleSystemBase");
}

BOOST_AUTO_TEST_CASE(ask_on_simple_base_runs_the_actor_and_returns_its_reply) {
  ActorSystem sys("simpleSystemBase", {}, options());
  const ActorAddress echo = sys.create_actor<actor_system_test::Echo>();
  const auto reply = sys.ask(echo, std::string("hello"), 5s);
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST(reply->as<std::string>() == "hello");
}

BOOST_AUTO_TEST_CASE(ask_with_the_largest_timeout_waits_for_the_reply_on_every_base) {
  for (const char* base : {"simpleSystemBase", "multithreadBase"}) {
    BOOST_TEST_CONTEXT(base) {
      ActorSystem sys(base, {{"Thread Count", std::int64_t{2}}}, options());
      const ActorAddress echo = sys.create_actor<actor_system_test::Echo>();
      const auto reply = sys.ask(echo, std::string("no limit"), std::chrono::nanoseconds::max());
      BOOST_REQUIRE(reply.has_value());
      BOOST_TEST(reply->as<std::string>() == "no limit");
    }
  }
}

BOOST_AUTO_TEST_CASE(create_actor_by_name_matches_the_registered_type) {
  ActorSystem sys("simpleSystemBase", {}, options());
  const ActorAddress echo = sys.create_actor("actor_system_test::Echo");
  const auto reply = sys.ask(echo, std::string("by name"), 5s);
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST(reply->as<std::string>() == "by name");
}

BOOST_AUTO_TEST_CASE(tell_to_the_null_address_throws_invalid_actor_address) {
  ActorSystem sys("simpleSystemBase", {}, options());
  BOOST_CHECK_THROW(sys.tell(ActorAddress{}, std::string("x")), thespian::InvalidActorAddress);
  auto context = sys.private_context();
  BOOST_CHECK_THROW(context.tell(ActorAddress{}, std::string("x")), thespian::InvalidActorAddress);
}

BOOST_AUTO_TEST_CASE(every_call_after_shutdown_throws_actor_system_failure) {
  ActorSystem sys("simpleSystemBase", {}, options());
  const ActorAddress echo = sys.create_actor<actor_system_test::Echo>();
  sys.shutdown();
  using thespian::ActorSystemFailure;
  BOOST_CHECK_THROW(sys.tell(echo, std::string("x")), ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.ask(echo, std::string("x"), 10ms), ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.listen(10ms), ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.create_actor<actor_system_test::Echo>(), ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.create_actor("actor_system_test::Echo"), ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.private_context(), ActorSystemFailure);
  BOOST_CHECK_THROW(sys.update_capability("X", true), ActorSystemFailure);
  BOOST_CHECK_THROW((void)sys.status(), ActorSystemFailure);
}

BOOST_AUTO_TEST_CASE(failure_after_shutdown_names_the_call) {
  ActorSystem sys("simpleSystemBase", {}, options());
  sys.shutdown();
  try {
    (void)sys.listen(1ms);
    BOOST_FAIL("listen after shutdown did not throw");
  } catch (const thespian::ActorSystemFailure& e) {
    BOOST_TEST(contains(e.what(), "listen"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(shutdown_of_actor_system_is_idempotent_and_the_destructor_follows_safely) {
  for (const char* base : {"simpleSystemBase", "multithreadBase"}) {
    BOOST_TEST_CONTEXT(base) {
      ActorSystem sys(base, {{"Thread Count", std::int64_t{1}}}, options());
      (void)sys.create_actor<actor_system_test::Echo>();
      BOOST_CHECK_NO_THROW(sys.shutdown());
      BOOST_CHECK_NO_THROW(sys.shutdown());
    }
  }
}

BOOST_AUTO_TEST_CASE(private_context_has_its_own_address_and_its_own_replies) {
  ActorSystem sys("simpleSystemBase", {}, options());
  const ActorAddress echo = sys.create_actor<actor_system_test::Echo>();
  auto mine = sys.private_context();
  auto theirs = sys.private_context();
  BOOST_TEST((mine.address() != theirs.address()));
  mine.tell(echo, std::string("for mine"));
  const auto got = mine.listen(1s);
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->as<std::string>() == "for mine");
  BOOST_TEST(!theirs.listen(0ms).has_value());
  BOOST_TEST(!sys.listen(0ms).has_value());
}

BOOST_AUTO_TEST_CASE(destroying_a_private_context_closes_its_endpoint) {
  ActorSystem sys("simpleSystemBase", {}, options());
  ActorAddress address;
  {
    auto context = sys.private_context();
    address = context.address();
    thespian::detail::envelope e{std::string("while open"), ActorAddress{},
                                 thespian::detail::envelope_kind::user, 0};
    BOOST_TEST(address.endpoint()->deliver(std::move(e)));
  }
  thespian::detail::envelope e{std::string("after close"), ActorAddress{},
                               thespian::detail::envelope_kind::user, 0};
  BOOST_TEST(!address.endpoint()->deliver(std::move(e)));
}

BOOST_AUTO_TEST_CASE(moved_from_private_context_leaves_the_endpoint_open_for_the_new_owner) {
  ActorSystem sys("simpleSystemBase", {}, options());
  const ActorAddress echo = sys.create_actor<actor_system_test::Echo>();
  auto first = sys.private_context();
  const ActorAddress address = first.address();
  thespian::ExternalContext second = std::move(first);
  BOOST_TEST((second.address() == address));
  second.tell(echo, std::string("still open"));
  const auto got = second.listen(1s);
  BOOST_REQUIRE(got.has_value());
  BOOST_TEST(got->as<std::string>() == "still open");
}

BOOST_AUTO_TEST_SUITE_END()
