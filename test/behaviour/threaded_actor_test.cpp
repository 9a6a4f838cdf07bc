// Port of Thespian's threaded actor tests: an actor starts std::threads of its own that call send()
// on its behalf while its primary thread goes on receiving; the actor joins them when it exits.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace threaded_actor_test {

using thespian::ActorAddress;
using thespian::Message;
using thespian_test::is_text;

struct Seq {
  std::int64_t thread = 0;
  std::int64_t n = 0;
  template <class A> void serialize(A& ar) { ar(thread, n); }
};
// Start `threads` background threads, each sending `count` Seq to `target`.
struct Start {
  ActorAddress target;
  std::int64_t threads = 1;
  std::int64_t count = 0;
  template <class A> void serialize(A& ar) { ar(target, threads, count); }
};
// Start one background thread that says "started", waits for "release", then says "done".
struct Handshake {
  ActorAddress target;
  template <class A> void serialize(A& ar) { ar(target); }
};

class Threaded : public thespian::Actor {
 public:
  ~Threaded() override { join_all(); }

  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* s = m.get<Start>()) {
      for (std::int64_t t = 0; t < s->threads; ++t) {
        workers_.emplace_back([this, target = s->target, t, count = s->count] {
          for (std::int64_t i = 0; i < count; ++i) send(target, Seq{t, i});
        });
      }
    } else if (const auto* h = m.get<Handshake>()) {
      handshake_target_ = h->target;
      workers_.emplace_back([this, target = h->target] {
        send(target, std::string("started"));
        std::unique_lock lock(mutex_);
        const bool released = cv_.wait_for(lock, std::chrono::seconds(10), [this] { return released_; });
        lock.unlock();
        send(target, std::string(released ? "done" : "never released"));
      });
    } else if (is_text(m, "release")) {
      {
        std::lock_guard lock(mutex_);
        released_ = true;
      }
      cv_.notify_all();
      send(from, std::string("released"));
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    } else if (m.is<thespian::ActorExitRequest>()) {
      // Reported by message: on the multi-process bases the actor lives in another process.
      const int joined = join_all();
      if (handshake_target_) send(handshake_target_, "joined " + std::to_string(joined));
    }
    co_return;
  }

 private:
  // Returns how many threads it joined.
  int join_all() {
    int joined = 0;
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) {
      if (w.joinable()) {
        w.join();
        ++joined;
      }
    }
    workers_.clear();
    return joined;
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
  ActorAddress handshake_target_;
};

}  // namespace threaded_actor_test

THESPIAN_MESSAGE(threaded_actor_test::Seq);
THESPIAN_MESSAGE(threaded_actor_test::Start);
THESPIAN_MESSAGE(threaded_actor_test::Handshake);

using namespace threaded_actor_test;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(threaded_actor, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(background_thread_of_an_actor_can_send_in_order) {
  auto actor = sys.create_actor<Threaded>();
  auto ctx = sys.private_context();
  ctx.tell(actor, Start{ctx.address(), 1, 200});
  for (std::int64_t i = 0; i < 200; ++i) {
    auto seq = reply_as<Seq>(ctx.listen(patience));
    BOOST_TEST(seq.n == i);
  }
}

BOOST_AUTO_TEST_CASE(primary_thread_keeps_receiving_while_a_background_thread_runs) {
  auto actor = sys.create_actor<Threaded>();
  auto ctx = sys.private_context();
  ctx.tell(actor, Handshake{ctx.address()});
  BOOST_REQUIRE(text_of(ctx.listen(patience)) == "started");
  BOOST_TEST(text_of(sys.ask(actor, "ping", patience)) == "pong");
  BOOST_TEST(text_of(sys.ask(actor, "release", patience)) == "released");
  BOOST_TEST(text_of(ctx.listen(patience)) == "done");
}

BOOST_AUTO_TEST_CASE(messages_of_several_background_threads_all_arrive_each_in_its_order) {
  constexpr std::int64_t threads = 4, each = 100;
  auto actor = sys.create_actor<Threaded>();
  auto ctx = sys.private_context();
  ctx.tell(actor, Start{ctx.address(), threads, each});
  std::vector<std::int64_t> next(threads, 0);
  std::int64_t out_of_order = 0;
  for (std::int64_t i = 0; i < threads * each; ++i) {
    auto seq = reply_as<Seq>(ctx.listen(patience));
    BOOST_REQUIRE(seq.thread >= 0);
    BOOST_REQUIRE(seq.thread < threads);
    if (seq.n != next[seq.thread]) ++out_of_order;
    next[seq.thread] = seq.n + 1;
  }
  BOOST_TEST(out_of_order == 0);
  BOOST_TEST(next == std::vector<std::int64_t>(threads, each), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sending_threads_and_the_receive_loop_interleave_without_loss) {
  auto actor = sys.create_actor<Threaded>();
  auto ctx = sys.private_context();
  ctx.tell(actor, Start{ctx.address(), 2, 300});
  for (int i = 0; i < 20; ++i) BOOST_TEST(text_of(sys.ask(actor, "ping", patience)) == "pong");
  int received = 0;
  while (received < 600 && ctx.listen(patience).has_value()) ++received;
  BOOST_TEST(received == 600);
}

BOOST_AUTO_TEST_CASE(actor_joins_its_threads_when_it_exits) {
  auto actor = sys.create_actor<Threaded>();
  auto ctx = sys.private_context();
  ctx.tell(actor, Handshake{ctx.address()});
  BOOST_REQUIRE(text_of(ctx.listen(patience)) == "started");
  sys.tell(actor, thespian::ActorExitRequest{});
  // Exiting releases the thread, which says "done" before the actor has joined it.
  BOOST_TEST(text_of(ctx.listen(patience)) == "done");
  BOOST_TEST(text_of(ctx.listen(patience)) == "joined 1");
}

BOOST_AUTO_TEST_SUITE_END()
