// Unit test of work stealing as an actor sees it (src/core/run_queue.cpp): on multithreadBase,
// the workers a coordinator hands tasks to in one on_message run at the same time, although
// the actors one actor makes ready wait in its own thread's lane.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <asio/awaitable.hpp>

#include "../support.hpp"
#include "thespian/actor_system.hpp"

namespace work_stealing_test {

using namespace std::chrono_literals;

struct task {
  int group;  // how many workers must be running at once
};
struct met {
  bool all;  // every one of the group ran while this worker did
};
struct fan_out {
  int workers;
};

// Workers of one test running at the moment (one system per test, one test at a time).
std::atomic<int> running{0};

// Blocks its thread until its whole group runs, up to a deadline: a long task.
class Worker : public thespian::Actor {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress& from) override {
    if (const auto* t = m.get<task>()) {
      running.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (running.load() < t->group && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
      send(from, met{running.load() >= t->group});
    }
    return true;
  }
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

// Hands one task to each of its workers in one on_message, then tells the starter whether
// every worker met the others.
class Coordinator : public thespian::Actor {
 public:
  bool on_message(const thespian::Message& m, const thespian::ActorAddress& from) override {
    if (const auto* f = m.get<fan_out>()) {
      starter_ = from;
      left_ = f->workers;
      all_met_ = true;
      while (static_cast<int>(workers_.size()) < f->workers) {
        workers_.push_back(create_actor<Worker>());
      }
      for (const auto& w : workers_) send(w, task{f->workers});
    } else if (const auto* r = m.get<met>()) {
      all_met_ = all_met_ && r->all;
      if (--left_ == 0) send(starter_, met{all_met_});
    }
    return true;
  }
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }

 private:
  thespian::ActorAddress starter_;
  std::vector<thespian::ActorAddress> workers_;
  int left_ = 0;
  bool all_met_ = true;
};

}  // namespace work_stealing_test

THESPIAN_ACTOR(work_stealing_test::Worker);
THESPIAN_ACTOR(work_stealing_test::Coordinator);

namespace {

using namespace std::chrono_literals;
using work_stealing_test::met;

// tell, not ask: an ask from outside runs the coordinator on the asking thread (a caller's
// turn, whose actors go to the shared queue); the case to test is a coordinator run by the pool.
bool workers_met(std::int64_t threads, int workers) {
  unit_support::temp_dir dir;
  thespian::SystemOptions options;
  options.log_file = (dir / "thespian.log").string();
  options.log_threshold = "CRITICAL";
  thespian::ActorSystem sys("multithreadBase", {{"Thread Count", threads}}, options);
  work_stealing_test::running = 0;
  const auto coordinator = sys.create_actor<work_stealing_test::Coordinator>();
  sys.tell(coordinator, work_stealing_test::fan_out{workers});
  const auto reply = sys.listen(30s);
  BOOST_REQUIRE(reply.has_value());
  BOOST_REQUIRE(reply->is<met>());
  return reply->get<met>()->all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(system_work_stealing)

BOOST_AUTO_TEST_CASE(two_workers_handed_tasks_in_one_on_message_run_at_once_on_two_threads) {
  BOOST_TEST(workers_met(2, 2));
}

BOOST_AUTO_TEST_CASE(four_workers_handed_tasks_in_one_on_message_run_at_once_on_four_threads) {
  BOOST_TEST(workers_met(4, 4));
}

BOOST_AUTO_TEST_SUITE_END()
