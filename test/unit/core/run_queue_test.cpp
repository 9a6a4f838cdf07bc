// Unit tests of the run queue's hand-offs (src/core/run_queue.*): the actors that an actor
// running in a pool drain makes ready stay on that drain's thread (the slot, then its local
// queue, in order), where a parent greeting its new children runs them at half the cost of
// letting the other pool thread take them.
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
  for (int i = 0; i < kChildren; ++i) {
    BOOST_TEST_CONTEXT("child " << i) {
      BOOST_TEST((children[i].thread == p.thread));
      BOOST_TEST(children[i].after_parent);
    }
  }
  // The slot's (the last made ready) first, then the others in the order they were made ready.
  BOOST_TEST(children[kChildren - 1].order == 0);
  for (int i = 0; i + 1 < kChildren; ++i) BOOST_TEST(children[i].order == i + 1);
}

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
