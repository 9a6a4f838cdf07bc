// async_ask: correlated, non-blocking asks for application code on any Asio executor, with every
// kind of completion token (use_awaitable from coroutines, use_future, plain and bound callbacks).
// Each ask has a one-shot reply address: the first message sent to it is the reply; later ones,
// and replies after the timeout, become dead letters.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asio/bind_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace async_ask_test {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

using thespian_test::DeadLetter;
struct Forwarded {
  ActorAddress asker;
  Message question;
  template <class A> void serialize(A& ar) { ar(asker, question); }
};

using Undertaker = thespian_test::dead_letter_reporter;

// Answers "twice" with "one" then "two"; "late" 300 ms later; throws on "throw"; hands anything
// else to a replier when it has one.
class Responder : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "twice")) {
      send(from, std::string("one"));
      send(from, std::string("two"));
    } else if (is_text(m, "late")) {
      late_to_ = from;
      wakeup_after(std::chrono::milliseconds(300));
    } else if (m.is<thespian::WakeupMessage>()) {
      send(late_to_, std::string("late reply"));
    } else if (is_text(m, "throw")) {
      throw std::runtime_error("responder failed");
    } else if (const auto* target = m.get<ActorAddress>()) {
      replier_ = *target;
    } else if (const auto* f = m.get<Forwarded>()) {
      send(f->asker, "final answer to " + f->question.as<std::string>());
    } else if (replier_ && !thespian_test::is_system_message(m)) {
      send(replier_, Forwarded{from, m});
    }
    co_return;
  }

 private:
  ActorAddress late_to_, replier_;
};

struct Slot {
  std::optional<std::int64_t> value;
  std::string error;
};

// One coroutine asker (a named coroutine: g++ 12 miscompiles capturing coroutine lambdas).
asio::awaitable<void> ask_one(thespian::ActorSystem* sys, ActorAddress echo, std::int64_t i,
                              std::vector<Slot>* results) {
  try {
    auto reply = co_await sys->async_ask(echo, i, std::chrono::seconds(5), asio::use_awaitable);
    if (reply && reply->is<std::int64_t>()) (*results)[static_cast<std::size_t>(i)].value = reply->as<std::int64_t>();
  } catch (const std::exception& e) {
    (*results)[static_cast<std::size_t>(i)].error = e.what();
  }
}

// Awaits an ask to the null address and records what was thrown.
asio::awaitable<void> ask_null(thespian::ActorSystem* sys, std::string* outcome) {
  try {
    (void)co_await sys->async_ask(ActorAddress{}, std::string("x"), std::chrono::seconds(1),
                                  asio::use_awaitable);
    *outcome = "no exception";
  } catch (const thespian::InvalidActorAddress&) {
    *outcome = "InvalidActorAddress";
  } catch (const std::exception& e) {
    *outcome = std::string("other exception: ") + e.what();
  }
}

// What a callback saw.
struct CallbackRecord {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::exception_ptr error;
  std::optional<Message> reply;
  bool on_io_thread = false;
};

}  // namespace async_ask_test

THESPIAN_MESSAGE(async_ask_test::Forwarded);

using namespace async_ask_test;
using thespian_test::brief;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

namespace {

void register_undertaker(thespian::ActorSystem& sys, thespian::ExternalContext& letters) {
  auto undertaker = sys.create_actor<Undertaker>();
  BOOST_REQUIRE(text_of(letters.ask(undertaker, "register", patience)) == "registered");
  BOOST_REQUIRE(thespian_test::wait_until(
      sys, [&] { return sys.status().dead_letter_handler == undertaker; }));
}

std::optional<Message> future_reply(std::future<std::optional<Message>>& f) {
  BOOST_REQUIRE_MESSAGE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready,
                        "the future was never completed");
  return f.get();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(async_ask, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(hundred_concurrent_coroutine_asks_each_get_their_own_reply) {
  constexpr std::int64_t asks = 100;
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  std::vector<Slot> results(asks);
  asio::io_context io;
  for (std::int64_t i = 0; i < asks; ++i) {
    asio::co_spawn(io, ask_one(&sys, echo, i, &results), asio::detached);
  }
  io.run_for(std::chrono::seconds(20));
  for (std::int64_t i = 0; i < asks; ++i) {
    const auto& slot = results[static_cast<std::size_t>(i)];
    BOOST_TEST_CONTEXT("ask " << i) {
      BOOST_TEST(slot.error == "");
      BOOST_REQUIRE(slot.value.has_value());
      BOOST_TEST(*slot.value == i);
    }
  }
  // The correlated replies never reach the shared endpoint.
  BOOST_TEST(!sys.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(coroutine_asks_from_an_io_context_on_its_own_thread_get_their_replies) {
  constexpr std::int64_t asks = 50;
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  std::vector<Slot> results(asks);
  asio::io_context io;
  for (std::int64_t i = 0; i < asks; ++i) {
    asio::co_spawn(io, ask_one(&sys, echo, i, &results), asio::detached);
  }
  std::thread runner([&io] { io.run_for(std::chrono::seconds(20)); });
  runner.join();
  int answered = 0;
  for (std::int64_t i = 0; i < asks; ++i) {
    const auto& slot = results[static_cast<std::size_t>(i)];
    if (slot.value == i && slot.error.empty()) ++answered;
  }
  BOOST_TEST(answered == asks);
}

BOOST_AUTO_TEST_CASE(use_future_delivers_the_reply) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto f = sys.async_ask(echo, std::string("via future"), patience, asio::use_future);
  BOOST_TEST(text_of(future_reply(f)) == "via future");
}

BOOST_AUTO_TEST_CASE(plain_callback_is_called_exactly_once_with_the_reply) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto record = std::make_shared<CallbackRecord>();
  sys.async_ask(echo, std::string("via callback"), patience,
                [record](std::exception_ptr error, std::optional<Message> reply) {
                  std::lock_guard lock(record->mutex);
                  record->error = error;
                  record->reply = std::move(reply);
                  record->calls.fetch_add(1);
                });
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] { return record->calls.load() >= 1; }));
  (void)sys.listen(brief);
  std::lock_guard lock(record->mutex);
  BOOST_TEST(record->calls.load() == 1);
  BOOST_TEST(!record->error);
  BOOST_TEST(text_of(record->reply) == "via callback");
}

BOOST_AUTO_TEST_CASE(callback_bound_to_an_io_context_runs_on_that_io_context) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  asio::io_context io;
  auto record = std::make_shared<CallbackRecord>();
  sys.async_ask(echo, std::string("bound"), patience,
                asio::bind_executor(io, [record, &io](std::exception_ptr error,
                                                      std::optional<Message> reply) {
                  std::lock_guard lock(record->mutex);
                  record->on_io_thread = io.get_executor().running_in_this_thread();
                  record->error = error;
                  record->reply = std::move(reply);
                  record->calls.fetch_add(1);
                }));
  io.run_for(std::chrono::seconds(10));
  std::lock_guard lock(record->mutex);
  BOOST_TEST(record->calls.load() == 1);
  BOOST_TEST(record->on_io_thread);
  BOOST_TEST(text_of(record->reply) == "bound");
}

BOOST_AUTO_TEST_CASE(async_ask_completes_with_nullopt_on_timeout) {
  auto silent = sys.create_actor<thespian_test::silent_actor>();
  const auto start = std::chrono::steady_clock::now();
  auto f = sys.async_ask(silent, std::string("hello?"), brief, asio::use_future);
  BOOST_TEST(!future_reply(f).has_value());
  BOOST_TEST((std::chrono::steady_clock::now() - start >= brief));
}

// Pending asks share one deadline timer: a shorter timeout started after a longer one must still
// expire at its own deadline, and an answered ask among them is not disturbed.
BOOST_AUTO_TEST_CASE(asks_with_different_timeouts_each_expire_at_their_own_deadline) {
  auto silent = sys.create_actor<thespian_test::silent_actor>();
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  const std::vector<std::chrono::milliseconds> timeouts{400ms, 50ms, 200ms};
  struct Outcome {
    std::atomic<bool> done{false};
    std::chrono::steady_clock::time_point at;
    bool had_reply = false;
  };
  std::vector<std::shared_ptr<Outcome>> outcomes;
  const auto start = std::chrono::steady_clock::now();
  for (const auto timeout : timeouts) {
    auto outcome = std::make_shared<Outcome>();
    outcomes.push_back(outcome);
    sys.async_ask(silent, std::string("anyone?"), timeout,
                  [outcome](std::exception_ptr, std::optional<Message> reply) {
                    outcome->at = std::chrono::steady_clock::now();
                    outcome->had_reply = reply.has_value();
                    outcome->done.store(true);
                  });
  }
  auto answered = sys.async_ask(echo, std::string("still here"), patience, asio::use_future);
  BOOST_TEST(text_of(future_reply(answered)) == "still here");
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] {
    for (const auto& o : outcomes) {
      if (!o->done.load()) return false;
    }
    return true;
  }));
  for (std::size_t i = 0; i < timeouts.size(); ++i) {
    BOOST_TEST(!outcomes[i]->had_reply);
    BOOST_TEST((outcomes[i]->at - start >= timeouts[i]), "ask " << i << " expired early");
  }
  if (sys.base() != "simpleSystemBase") {  // there each ask runs to its end before the next
    BOOST_TEST((outcomes[1]->at < outcomes[2]->at));
    BOOST_TEST((outcomes[2]->at < outcomes[0]->at));
  }
}

BOOST_AUTO_TEST_CASE(async_ask_to_the_null_address_completes_with_invalid_actor_address) {
  auto record = std::make_shared<CallbackRecord>();
  try {
    sys.async_ask(ActorAddress{}, std::string("x"), patience,
                  [record](std::exception_ptr error, std::optional<Message> reply) {
                    std::lock_guard lock(record->mutex);
                    record->error = error;
                    record->reply = std::move(reply);
                    record->calls.fetch_add(1);
                  });
  } catch (const std::exception& e) {
    BOOST_ERROR("async_ask threw at once instead of completing with an exception: " << e.what());
    return;
  }
  BOOST_REQUIRE(thespian_test::wait_until(sys, [&] { return record->calls.load() >= 1; }));
  std::lock_guard lock(record->mutex);
  BOOST_REQUIRE(record->error);
  BOOST_CHECK_THROW(std::rethrow_exception(record->error), thespian::InvalidActorAddress);
  BOOST_TEST(!record->reply.has_value());
}

BOOST_AUTO_TEST_CASE(awaited_ask_to_the_null_address_throws_in_the_coroutine) {
  std::string outcome = "not completed";
  asio::io_context io;
  asio::co_spawn(io, ask_null(&sys, &outcome), asio::detached);
  io.run_for(std::chrono::seconds(10));
  BOOST_TEST(outcome == "InvalidActorAddress");
}

BOOST_AUTO_TEST_CASE(async_ask_after_shutdown_fails_instead_of_hanging) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  sys.shutdown();
  try {
    auto f = sys.async_ask(echo, std::string("anyone?"), patience, asio::use_future);
    BOOST_REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    BOOST_CHECK_THROW(f.get(), thespian::ActorSystemException);
  } catch (const thespian::ActorSystemException&) {
    // Refusing at once is a failure the caller sees too.
  }
}

BOOST_AUTO_TEST_CASE(only_the_first_message_to_the_reply_address_is_the_reply_later_ones_are_dead_letters) {
  auto letters = sys.private_context();
  register_undertaker(sys, letters);
  auto responder = sys.create_actor<Responder>();
  auto f = sys.async_ask(responder, std::string("twice"), patience, asio::use_future);
  BOOST_TEST(text_of(future_reply(f)) == "one");
  auto dead = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(text_of(dead.dead_message) == "two");
  BOOST_TEST(static_cast<bool>(dead.dead_address));
}

BOOST_AUTO_TEST_CASE(reply_after_the_timeout_becomes_a_dead_letter) {
  auto letters = sys.private_context();
  register_undertaker(sys, letters);
  auto responder = sys.create_actor<Responder>();
  auto f = sys.async_ask(responder, std::string("late"), std::chrono::milliseconds(50),
                         asio::use_future);
  BOOST_TEST(!future_reply(f).has_value());
  auto dead = reply_as<DeadLetter>(letters.listen(patience));
  BOOST_TEST(text_of(dead.dead_message) == "late reply");
}

BOOST_AUTO_TEST_CASE(forwarded_ask_is_answered_by_the_final_actor) {
  auto front = sys.create_actor<Responder>();
  auto back = sys.create_actor<Responder>();
  sys.tell(front, back);
  auto f = sys.async_ask(front, std::string("the question"), patience, asio::use_future);
  BOOST_TEST(text_of(future_reply(f)) == "final answer to the question");
}

BOOST_AUTO_TEST_CASE(poison_message_is_the_reply_when_the_asked_actor_fails) {
  auto responder = sys.create_actor<Responder>();
  auto f = sys.async_ask(responder, std::string("throw"), patience, asio::use_future);
  auto poison = reply_as<thespian::PoisonMessage>(future_reply(f));
  BOOST_TEST(text_of(poison.poison) == "throw");
}

BOOST_AUTO_TEST_CASE(private_context_async_ask_works_too) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  auto ctx = sys.private_context();
  auto f = ctx.async_ask(echo, std::string("from a context"), patience, asio::use_future);
  BOOST_TEST(text_of(future_reply(f)) == "from a context");
  BOOST_TEST(!ctx.listen(brief).has_value());
}

BOOST_AUTO_TEST_CASE(async_ask_is_not_confused_by_traffic_to_the_shared_endpoint) {
  auto echo = sys.create_actor<thespian_test::echo_actor>();
  sys.tell(echo, std::string("noise"));
  auto f = sys.async_ask(echo, std::string("signal"), patience, asio::use_future);
  BOOST_TEST(text_of(future_reply(f)) == "signal");
  BOOST_TEST(text_of(sys.listen(patience)) == "noise");
}

BOOST_AUTO_TEST_SUITE_END()
