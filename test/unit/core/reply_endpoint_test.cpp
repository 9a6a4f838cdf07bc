// Unit tests of reply_endpoint (src/core/reply_endpoint.hpp), the one-shot address of a
// correlated ask: the first delivery wins, later ones and deliveries after close() fail, and
// the callback (with whatever it holds) is released as soon as the endpoint is done.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/reply_endpoint.hpp"
#include "../support.hpp"

namespace {

using thespian::ActorAddress;
using thespian::Message;
using thespian::detail::envelope;
using thespian::detail::envelope_kind;
using thespian::detail::reply_endpoint;

envelope user_envelope(Message m) {
  return envelope{std::move(m), ActorAddress{}, envelope_kind::user, 0};
}

// Records what its callback was given.
struct reply_probe {
  std::shared_ptr<std::vector<Message>> replies = std::make_shared<std::vector<Message>>();
  thespian::detail::endpoint_ref<reply_endpoint> make() const {
    auto target = replies;
    return thespian::detail::make_endpoint<reply_endpoint>(unit_support::fresh_system_id(), 1,
                                            [target](envelope&& e) {
                                              target->push_back(std::move(e.message));
                                            });
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(core_reply_endpoint)

BOOST_AUTO_TEST_CASE(first_delivery_reaches_the_callback_and_is_accepted) {
  reply_probe probe;
  auto reply = probe.make();
  BOOST_TEST(reply->deliver(user_envelope(std::string("the reply"))));
  BOOST_REQUIRE(probe.replies->size() == 1u);
  BOOST_TEST(probe.replies->front().as<std::string>() == "the reply");
}

BOOST_AUTO_TEST_CASE(later_deliveries_return_false_and_never_reach_the_callback) {
  reply_probe probe;
  auto reply = probe.make();
  BOOST_TEST(reply->deliver(user_envelope(std::string("first"))));
  BOOST_TEST(!reply->deliver(user_envelope(std::string("second"))));
  BOOST_TEST(!reply->deliver(user_envelope(std::string("third"))));
  BOOST_REQUIRE(probe.replies->size() == 1u);
  BOOST_TEST(probe.replies->front().as<std::string>() == "first");
}

BOOST_AUTO_TEST_CASE(close_after_the_reply_returns_false) {
  reply_probe probe;
  auto reply = probe.make();
  BOOST_TEST(reply->deliver(user_envelope(std::int64_t{1})));
  BOOST_TEST(!reply->close());
}

BOOST_AUTO_TEST_CASE(close_before_any_reply_returns_true_and_makes_deliveries_fail) {
  reply_probe probe;
  auto reply = probe.make();
  BOOST_TEST(reply->close());
  BOOST_TEST(!reply->deliver(user_envelope(std::string("too late"))));
  BOOST_TEST(probe.replies->empty());
}

BOOST_AUTO_TEST_CASE(only_the_first_close_reports_that_it_closed_the_endpoint) {
  reply_probe probe;
  auto reply = probe.make();
  BOOST_TEST(reply->close());
  BOOST_TEST(!reply->close());
}

BOOST_AUTO_TEST_CASE(callback_state_is_released_after_the_reply) {
  auto held = std::make_shared<int>(0);
  std::weak_ptr<int> watch = held;
  auto reply = thespian::detail::make_endpoint<reply_endpoint>(unit_support::fresh_system_id(), 1,
                                                [held](envelope&&) { ++*held; });
  held.reset();
  BOOST_REQUIRE(!watch.expired());  // the callback holds it while the ask is open
  BOOST_TEST(reply->deliver(user_envelope(true)));
  BOOST_TEST(watch.expired());
}

BOOST_AUTO_TEST_CASE(callback_state_is_released_on_close) {
  auto held = std::make_shared<int>(0);
  std::weak_ptr<int> watch = held;
  auto reply = thespian::detail::make_endpoint<reply_endpoint>(unit_support::fresh_system_id(), 1,
                                                [held](envelope&&) { ++*held; });
  held.reset();
  BOOST_REQUIRE(!watch.expired());
  BOOST_TEST(reply->close());
  BOOST_TEST(watch.expired());
}

BOOST_AUTO_TEST_CASE(exactly_one_of_many_concurrent_deliveries_wins) {
  constexpr int kThreads = 8;
  std::atomic<int> callbacks{0};
  auto reply = thespian::detail::make_endpoint<reply_endpoint>(unit_support::fresh_system_id(), 1,
                                                [&callbacks](envelope&&) { ++callbacks; });
  std::atomic<int> accepted{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      if (reply->deliver(user_envelope(std::int64_t{i}))) ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  BOOST_TEST(accepted.load() == 1);
  BOOST_TEST(callbacks.load() == 1);
}

BOOST_AUTO_TEST_CASE(reply_address_prints_printably_and_differs_from_other_endpoints) {
  reply_probe probe;
  auto reply = probe.make();
  auto other = unit_support::make_recording_endpoint();
  const std::string text = ActorAddress(reply).to_string();
  BOOST_TEST(unit_support::is_printable(text), text);
  BOOST_TEST(text != ActorAddress(other).to_string());
}

BOOST_AUTO_TEST_SUITE_END()
