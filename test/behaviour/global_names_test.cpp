// Port of Thespian's global name tests: create_actor with a global name returns the one actor of
// that name (whatever type is asked for, and even when several threads ask at once), the actor
// knows its name, the system lists it, and the name is free again once the actor has exited.
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace global_names_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

class Registrar : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "who")) send(from, std::string("registrar"));
    if (is_text(m, "name")) send(from, global_name());
    co_return;
  }
};

class Other : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "who")) send(from, std::string("other"));
    co_return;
  }
};

struct ChildGone {
  ActorAddress child;
  template <class A> void serialize(A& ar) { ar(child); }
};

// Creates one named and one unnamed child and reports which of them it hears exit.
class Guardian : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "spawn")) {
      reporter_ = from;
      named_ = create_actor<Registrar>({}, "guarded-named-child");
      unnamed_ = create_actor<Registrar>();
      send(from, std::vector<ActorAddress>{named_, unnamed_});
    } else if (is_text(m, "find shared")) {
      // A name that exists already: the one actor of that name, not a new child.
      send(from, create_actor<Registrar>({}, "shared-by-name"));
    } else if (is_text(m, "stop unnamed")) {
      send(unnamed_, thespian::ActorExitRequest{});
    } else if (const auto* gone = m.get<thespian::ChildActorExited>()) {
      send(reporter_, ChildGone{gone->child});
    }
    co_return;
  }

 private:
  ActorAddress reporter_, named_, unnamed_;
};

}  // namespace global_names_test

THESPIAN_MESSAGE(global_names_test::ChildGone);

THESPIAN_ACTOR(global_names_test::Registrar);

using namespace global_names_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(global_names, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(same_global_name_returns_the_same_actor) {
  // Counted by the system (on the multi-process bases the actor lives in another process).
  const auto before = sys.status().actor_count;
  auto first = sys.create_actor<Registrar>({}, "registrar");
  auto second = sys.create_actor<Registrar>({}, "registrar");
  BOOST_TEST(first == second);
  BOOST_TEST(sys.status().actor_count == before + 1);
  BOOST_TEST(text_of(sys.ask(second, "who", patience)) == "registrar");
}

BOOST_AUTO_TEST_CASE(different_global_names_give_different_actors) {
  auto a = sys.create_actor<Registrar>({}, "name-a");
  auto b = sys.create_actor<Registrar>({}, "name-b");
  BOOST_TEST(a != b);
}

BOOST_AUTO_TEST_CASE(named_actor_knows_its_global_name) {
  auto actor = sys.create_actor<Registrar>({}, "the registrar");
  BOOST_TEST(text_of(sys.ask(actor, "name", patience)) == "the registrar");
}

BOOST_AUTO_TEST_CASE(existing_name_returns_that_actor_whatever_type_is_asked_for) {
  auto registrar = sys.create_actor<Registrar>({}, "shared name");
  auto again = sys.create_actor<Other>({}, "shared name");
  BOOST_TEST(again == registrar);
  BOOST_TEST(text_of(sys.ask(again, "who", patience)) == "registrar");
}

BOOST_AUTO_TEST_CASE(existing_name_is_returned_without_resolving_the_type_name) {
  auto registrar = sys.create_actor("global_names_test::Registrar", {}, "by name");
  auto again = sys.create_actor("global_names_test::NotARegisteredType", {}, "by name");
  BOOST_TEST(again == registrar);
}

BOOST_AUTO_TEST_CASE(private_contexts_see_the_same_named_actor) {
  auto ctx = sys.private_context();
  auto from_system = sys.create_actor<Registrar>({}, "everyone's");
  auto from_context = ctx.create_actor<Registrar>({}, "everyone's");
  BOOST_TEST(from_system == from_context);
}

BOOST_AUTO_TEST_CASE(concurrent_creates_of_one_name_yield_one_actor) {
  constexpr int callers = 8;
  const auto before = sys.status().actor_count;
  std::vector<thespian::ExternalContext> contexts;
  for (int i = 0; i < callers; ++i) contexts.push_back(sys.private_context());
  std::vector<ActorAddress> results(callers);
  std::vector<std::string> errors(callers);
  auto create = [&](int i) {
    try {
      results[i] = contexts[i].create_actor<Registrar>({}, "contended");
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  };
  if (thespian_test::is_multithread()) {
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) threads.emplace_back(create, i);
    for (auto& t : threads) t.join();
  } else {
    for (int i = 0; i < callers; ++i) create(i);
  }
  for (int i = 0; i < callers; ++i) {
    BOOST_TEST(errors[i] == "");
    BOOST_TEST(static_cast<bool>(results[i]));
    BOOST_TEST(results[i] == results[0]);
  }
  BOOST_TEST(sys.status().actor_count == before + 1);
}

BOOST_AUTO_TEST_CASE(name_is_free_again_after_the_named_actor_exits) {
  auto first = sys.create_actor<Registrar>({}, "transient");
  BOOST_REQUIRE(text_of(sys.ask(first, "who", patience)) == "registrar");
  sys.tell(first, thespian::ActorExitRequest{});
  ActorAddress second;
  const bool replaced = thespian_test::wait_until(sys, [&] {
    second = sys.create_actor<Registrar>({}, "transient");
    return second != first;
  });
  BOOST_REQUIRE(replaced);
  BOOST_TEST(text_of(sys.ask(second, "who", patience)) == "registrar");
  BOOST_TEST(text_of(sys.ask(second, "name", patience)) == "transient");
}

BOOST_AUTO_TEST_CASE(global_names_are_listed_in_system_status) {
  auto actor = sys.create_actor<Registrar>({}, "listed");
  auto status = sys.status();
  BOOST_REQUIRE(status.global_names.count("listed") == 1u);
  BOOST_TEST(status.global_names.at("listed") == actor);
}

BOOST_AUTO_TEST_CASE(an_actor_asking_for_an_existing_name_gets_that_actor) {
  auto existing = sys.create_actor<Registrar>({}, "shared-by-name");
  auto guardian = sys.create_actor<Guardian>();
  BOOST_TEST(reply_as<ActorAddress>(sys.ask(guardian, "find shared", patience)) == existing);
  BOOST_TEST(text_of(sys.ask(existing, "who", patience)) == "registrar");
  BOOST_TEST(sys.status().global_names.size() == 1u);
}

BOOST_AUTO_TEST_CASE(named_child_has_no_parent_to_tell_when_it_exits) {
  auto guardian = sys.create_actor<Guardian>();
  auto children = reply_as<std::vector<ActorAddress>>(sys.ask(guardian, "spawn", patience));
  BOOST_REQUIRE(children.size() == 2u);
  // The named child is the system-wide one of that name.
  BOOST_TEST(sys.create_actor<Registrar>({}, "guarded-named-child") == children[0]);
  sys.tell(children[0], thespian::ActorExitRequest{});
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] {
    return sys.create_actor<Registrar>({}, "guarded-named-child") != children[0];
  }));
  sys.tell(guardian, "stop unnamed");
  // The first (and only) exit the guardian hears of is the unnamed child's.
  BOOST_TEST(reply_as<ChildGone>(sys.listen(patience)).child == children[1]);
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
