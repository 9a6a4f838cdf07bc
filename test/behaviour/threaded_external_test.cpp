// Port of Thespian's threaded external tests: several application threads, each with a private
// context, ask actors at the same time; each thread gets its own replies and nobody else's.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace threaded_external_test {

using thespian::ActorAddress;
using thespian::Message;

struct Tagged {
  std::int64_t thread = 0;
  std::int64_t n = 0;
  friend bool operator==(const Tagged&, const Tagged&) = default;
  template <class A> void serialize(A& ar) { ar(thread, n); }
};

// What one thread saw: how many replies were its own, foreign, or missing.
struct Outcome {
  int own = 0, foreign = 0, missing = 0;
  std::string error;
};

// Ask `count` times with Tagged{thread, i}; an echo must return each to this context only.
Outcome ask_many(thespian::ExternalContext& ctx, ActorAddress echo, std::int64_t thread, int count) {
  Outcome out;
  try {
    for (int i = 0; i < count; ++i) {
      const Tagged sent{thread, i};
      auto reply = ctx.ask(echo, sent, std::chrono::seconds(5));
      if (!reply) {
        ++out.missing;
      } else if (const auto* t = reply->get<Tagged>(); t && *t == sent) {
        ++out.own;
      } else {
        ++out.foreign;
      }
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace threaded_external_test

THESPIAN_MESSAGE(threaded_external_test::Tagged);

using namespace threaded_external_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;

BOOST_FIXTURE_TEST_SUITE(threaded_external, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(threads_with_private_contexts_get_only_their_own_replies) {
  constexpr int threads = 8, asks = 25;
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  std::vector<Outcome> outcomes(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto ctx = sys.private_context();
      outcomes[t] = ask_many(ctx, echo, t, asks);
    });
  }
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) {
    BOOST_TEST_CONTEXT("thread " << t) {
      BOOST_TEST(outcomes[t].error == "");
      BOOST_TEST(outcomes[t].own == asks);
      BOOST_TEST(outcomes[t].foreign == 0);
      BOOST_TEST(outcomes[t].missing == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(threads_asking_different_actors_each_get_their_own_replies) {
  constexpr int threads = 4, asks = 25;
  std::vector<ActorAddress> echoes;
  for (int t = 0; t < threads; ++t) echoes.push_back(sys.create_actor<thespian_test::echo_actor>());
  std::vector<Outcome> outcomes(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto ctx = sys.private_context();
      outcomes[t] = ask_many(ctx, echoes[t], t, asks);
    });
  }
  for (auto& w : workers) w.join();
  for (int t = 0; t < threads; ++t) {
    BOOST_TEST_CONTEXT("thread " << t) {
      BOOST_TEST(outcomes[t].error == "");
      BOOST_TEST(outcomes[t].own == asks);
    }
  }
}

BOOST_AUTO_TEST_CASE(replies_to_one_context_are_not_seen_by_another) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto one = sys.private_context();
  auto two = sys.private_context();
  one.tell(echo, std::string("for one"));
  BOOST_TEST(!two.listen(brief).has_value());
  BOOST_TEST(!sys.listen(brief).has_value());
  BOOST_TEST(thespian_test::text_of(one.listen(patience)) == "for one");
}

BOOST_AUTO_TEST_CASE(contexts_on_one_thread_keep_their_replies_apart) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto one = sys.private_context();
  auto two = sys.private_context();
  one.tell(echo, std::string("first for one"));
  two.tell(echo, std::string("first for two"));
  one.tell(echo, std::string("second for one"));
  BOOST_TEST(thespian_test::text_of(two.listen(patience)) == "first for two");
  BOOST_TEST(thespian_test::text_of(one.listen(patience)) == "first for one");
  BOOST_TEST(thespian_test::text_of(one.listen(patience)) == "second for one");
}

BOOST_AUTO_TEST_CASE(a_context_made_on_one_thread_is_usable_on_another) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto ctx = sys.private_context();
  Outcome outcome;
  std::thread worker([&] { outcome = ask_many(ctx, echo, 7, 10); });
  worker.join();
  BOOST_TEST(outcome.error == "");
  BOOST_TEST(outcome.own == 10);
}

BOOST_AUTO_TEST_SUITE_END()
