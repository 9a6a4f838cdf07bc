// Unit tests of the run queue's hand-offs (src/core/run_queue.*): the actors that an actor
// running in a pool drain makes ready stay on that drain's thread (the slot, then its local
// queue, in order), where a parent greeting its new children runs them at half the cost of
// letting the other pool thread take them; and idle pool threads steal those that wait behind
// a long-running one.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "core/run_queue.hpp"

namespace run_queue_test {

using thespian::detail::run_queue;
using clock = std::chrono::steady_clock;

// Records the thread it ran on and when, relative to its parent's end.
struct child final : thespian::detail::runnable {
  std::atomic<bool> ran{false};
  std::thread::id thread;
  bool after_parent = false;
  const std::atomic<bool>* parent_done = nullptr;
  std::atomic<int>* remaining = nullptr;
  int order = -1;
  std::atomic<int>* next_order = nullptr;

  void run_scheduled() override {
    thread = std::this_thread::get_id();
    after_parent = parent_done->load();
    order = next_order->fetch_add(1);
    ran = true;
    remaining->fetch_sub(1);
  }
};

// Makes its children ready one after another, like a parent's on_message() greeting each new
// child, and after the first two gives the other pool thread time to take one (it waits for
// the first child to run elsewhere, up to a deadline).
struct parent final : thespian::detail::runnable {
  run_queue* queue = nullptr;
  std::vector<child>* children = nullptr;
  std::thread::id thread;
  std::atomic<bool> done{false};

  void run_scheduled() override {
    thread = std::this_thread::get_id();
    for (std::size_t i = 0; i < children->size(); ++i) {
      queue->schedule(&(*children)[i]);
      if (i == 1) {
        const auto deadline = clock::now() + std::chrono::milliseconds(300);
        while (!(*children)[0].ran.load() && clock::now() < deadline) std::this_thread::yield();
      }
    }
    done = true;
  }
};

BOOST_AUTO_TEST_CASE(actors_made_ready_by_a_pool_actor_run_on_its_thread_after_it_in_order) {
  asio::io_context context;
  auto guard = asio::make_work_guard(context);
  run_queue queue(context, 2);
  constexpr int kChildren = 50;
  std::vector<child> children(kChildren);
  std::atomic<int> remaining{kChildren};
  std::atomic<int> next_order{0};
  parent p;
  p.queue = &queue;
  p.children = &children;
  for (auto& c : children) {
    c.parent_done = &p.done;
    c.remaining = &remaining;
    c.next_order = &next_order;
  }
  std::vector<std::thread> pool;
  for (int i = 0; i < 2; ++i) pool.emplace_back([&context] { context.run(); });
  queue.schedule(&p);  // from outside the pool: the shared queue
  const auto deadline = clock::now() + std::chrono::seconds(10);
  while (remaining.load() > 0 && clock::now() < deadline) std::this_thread::yield();
  guard.reset();
  context.stop();
  for (auto& t : pool) t.join();
  BOOST_REQUIRE(remaining.load() == 0);
  // While the parent ran (300 ms with child 0 ready), no other thread took one of them.
  for (int i = 0; i < kChildren; ++i) {
    BOOST_TEST_CONTEXT("child " << i) { BOOST_TEST(children[i].after_parent); }
  }
  // The slot's (the last made ready) first, then the others in the order they were made
  // ready. A thief (an idle thread stealing once the drain seemed stuck, e.g. while the
  // machine preempted it) takes the oldest ones, which then run on its thread in order.
  BOOST_TEST((children[kChildren - 1].thread == p.thread));
  BOOST_TEST(children[kChildren - 1].order == 0);
  int last_here = 0, last_elsewhere = -1;
  for (int i = 0; i + 1 < kChildren; ++i) {
    BOOST_TEST_CONTEXT("child " << i) {
      int& last = children[i].thread == p.thread ? last_here : last_elsewhere;
      BOOST_TEST(children[i].order > last);
      last = children[i].order;
    }
  }
}

// Blocks in its run until every one of `group` runs at the same time, up to a deadline: like
// a worker busy with a long task while another waits behind it.
struct rendezvous final : thespian::detail::runnable {
  std::atomic<int>* running = nullptr;
  int group = 0;
  bool met = false;
  std::atomic<int>* finished = nullptr;
  void run_scheduled() override {
    running->fetch_add(1);
    const auto deadline = clock::now() + std::chrono::seconds(10);
    while (running->load() < group && clock::now() < deadline) std::this_thread::yield();
    met = running->load() >= group;
    finished->fetch_add(1);
  }
};

// Hands each of its workers a task in one run, like a coordinator's on_message.
struct fan_out final : thespian::detail::runnable {
  run_queue* queue = nullptr;
  std::vector<rendezvous>* workers = nullptr;
  void run_scheduled() override {
    for (auto& w : *workers) queue->schedule(&w);
  }
};

// Work stealing: actors a pool actor made ready wait in its drain's lane, and while its thread
// runs one of them for long, the other pool threads take the others (without it, the first
// worker waits for the rest until its deadline and the others run after it).
void run_fan_out(std::size_t threads, int workers_count) {
  asio::io_context context;
  auto guard = asio::make_work_guard(context);
  run_queue queue(context, threads);
  std::atomic<int> running{0}, finished{0};
  std::vector<rendezvous> workers(static_cast<std::size_t>(workers_count));
  for (auto& w : workers) {
    w.running = &running;
    w.group = workers_count;
    w.finished = &finished;
  }
  fan_out coordinator;
  coordinator.queue = &queue;
  coordinator.workers = &workers;
  std::vector<std::thread> pool;
  for (std::size_t i = 0; i < threads; ++i) pool.emplace_back([&context] { context.run(); });
  queue.schedule(&coordinator);
  const auto deadline = clock::now() + std::chrono::seconds(30);
  while (finished.load() < workers_count && clock::now() < deadline) std::this_thread::yield();
  guard.reset();
  context.stop();
  for (auto& t : pool) t.join();
  BOOST_REQUIRE(finished.load() == workers_count);
  for (int i = 0; i < workers_count; ++i) {
    BOOST_TEST_CONTEXT("worker " << i) { BOOST_TEST(workers[static_cast<std::size_t>(i)].met); }
  }
}

BOOST_AUTO_TEST_CASE(an_idle_pool_thread_takes_actors_waiting_behind_a_long_one) {
  run_fan_out(2, 2);
}

BOOST_AUTO_TEST_CASE(four_idle_pool_threads_share_four_long_actors) { run_fan_out(4, 4); }

// Three actors that keep making each other ready, two at a time, so that the drain's slot or
// its local queue always holds one, until `stop`.
struct cycler final : thespian::detail::runnable {
  run_queue* queue = nullptr;
  cycler* first = nullptr;   // made ready, then displaced by `second` (the local queue)
  cycler* second = nullptr;  // the slot
  const std::atomic<bool>* stop = nullptr;
  std::atomic<long>* runs = nullptr;
  void run_scheduled() override {
    runs->fetch_add(1);
    if (stop->load()) return;
    if (first) queue->schedule(first);
    if (second) queue->schedule(second);
  }
};
struct marker final : thespian::detail::runnable {
  std::atomic<bool> ran{false};
  void run_scheduled() override { ran = true; }
};

// The local queue never starves the shared one: with one thread, an actor made ready from
// outside runs while pool actors keep making each other ready.
BOOST_AUTO_TEST_CASE(actors_kept_local_do_not_starve_the_shared_queue) {
  asio::io_context context;
  auto guard = asio::make_work_guard(context);
  run_queue queue(context, 1);
  std::atomic<bool> stop{false};
  std::atomic<long> runs{0};
  cycler p, q, r;
  for (cycler* c : {&p, &q, &r}) {
    c->queue = &queue;
    c->stop = &stop;
    c->runs = &runs;
  }
  p.first = &q;  // p makes q then r ready: q waits in the local queue, r in the slot
  p.second = &r;
  q.second = &p;  // q makes p ready again
  marker outside;
  std::thread pool([&context] { context.run(); });
  queue.schedule(&p);
  auto deadline = clock::now() + std::chrono::seconds(5);
  while (runs.load() < 1000 && clock::now() < deadline) std::this_thread::yield();
  BOOST_REQUIRE(runs.load() >= 1000);  // the cycle runs
  queue.schedule(&outside);
  deadline = clock::now() + std::chrono::seconds(2);
  while (!outside.ran.load() && clock::now() < deadline) std::this_thread::yield();
  const bool ran = outside.ran.load();
  stop = true;
  guard.reset();
  context.stop();
  pool.join();
  BOOST_TEST(ran);
}

}  // namespace run_queue_test
