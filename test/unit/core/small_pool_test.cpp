// Unit tests of the small pool (include/thespian/detail/small_pool.hpp, src/core/small_pool.cpp),
// where payloads and mailbox chunks get their memory: every size up to the largest class gets
// a usable block of its own, and blocks freed on one thread and reused on another (the
// fan-in pattern: senders allocate, the receiver frees) are never handed out twice.
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "thespian/detail/small_pool.hpp"
#include "thespian/message.hpp"

namespace {

using thespian::detail::kSmallPoolMax;
using thespian::detail::small_allocate;
using thespian::detail::small_deallocate;

struct block {
  unsigned char* p;
  std::size_t bytes;
  unsigned char mark;
};

void fill(const block& b) { std::memset(b.p, b.mark, b.bytes); }
bool intact(const block& b) {
  for (std::size_t i = 0; i < b.bytes; ++i) {
    if (b.p[i] != b.mark) return false;
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_small_pool)

BOOST_AUTO_TEST_CASE(every_size_gets_a_distinct_usable_block) {
  std::vector<block> live;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t bytes = 1; bytes <= kSmallPoolMax + 64; bytes += 7) {
      block b{static_cast<unsigned char*>(small_allocate(bytes)), bytes,
              static_cast<unsigned char>(live.size() * 31 + 1)};
      BOOST_REQUIRE(b.p != nullptr);
      BOOST_TEST(reinterpret_cast<std::uintptr_t>(b.p) % alignof(std::max_align_t) == 0u);
      fill(b);
      live.push_back(b);
    }
    // Free every other one, so the next round reuses them while the rest stay live.
    std::vector<block> kept;
    for (std::size_t i = 0; i < live.size(); ++i) {
      BOOST_REQUIRE(intact(live[i]));
      if (i % 2 == 0) {
        small_deallocate(live[i].p, live[i].bytes);
      } else {
        kept.push_back(live[i]);
      }
    }
    live = std::move(kept);
  }
  for (const block& b : live) {
    BOOST_TEST(intact(b));
    small_deallocate(b.p, b.bytes);
  }
}

BOOST_AUTO_TEST_CASE(blocks_freed_on_another_thread_are_reused_without_being_shared) {
  // Four producers allocate and mark blocks, one consumer checks and frees them: the
  // consumer's thread gives batches back to the depot, the producers take them again.
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 20000;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<block> queue;
  std::vector<std::thread> producers;
  for (int t = 0; t < kProducers; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerProducer; ++i) {
        const std::size_t bytes = 16 + static_cast<std::size_t>((i * 37 + t) % 200);
        block b{static_cast<unsigned char*>(small_allocate(bytes)), bytes,
                static_cast<unsigned char>(t * 50 + i % 50 + 1)};
        fill(b);
        std::lock_guard lock(mutex);
        queue.push_back(b);
        ready.notify_one();
      }
    });
  }
  int corrupted = 0;
  std::thread consumer([&] {
    for (int done = 0; done < kProducers * kPerProducer; ++done) {
      block b;
      {
        std::unique_lock lock(mutex);
        ready.wait(lock, [&] { return !queue.empty(); });
        b = queue.front();
        queue.pop_front();
      }
      if (!intact(b)) ++corrupted;
      std::memset(b.p, 0xEE, b.bytes);  // a block still in use elsewhere would show this
      small_deallocate(b.p, b.bytes);
    }
  });
  for (auto& t : producers) t.join();
  consumer.join();
  BOOST_TEST(corrupted == 0);
}

BOOST_AUTO_TEST_CASE(a_message_made_on_one_thread_and_dropped_on_another_keeps_its_value) {
  std::vector<thespian::Message> made;
  std::thread maker([&] {
    for (int i = 0; i < 1000; ++i) made.emplace_back(std::string(static_cast<std::size_t>(i % 40), 'x'));
  });
  maker.join();
  for (int i = 0; i < 1000; ++i) {
    BOOST_TEST(made[static_cast<std::size_t>(i)].as<std::string>().size() ==
               static_cast<std::size_t>(i % 40));
  }
  made.clear();  // freed here, on the test's thread
}

// A burst freed on a thread that did not allocate it leaves batches in the depot; the trim
// gives them all back (the bench's idle-actor row reads RSS after it), and the pool still
// hands out good blocks afterwards.
BOOST_AUTO_TEST_CASE(trim_gives_back_what_the_depot_keeps) {
  thespian::detail::small_pool_trim();  // whatever earlier cases left
  constexpr std::size_t kBytes = 200;
  std::vector<void*> burst(4096);
  for (auto& p : burst) p = small_allocate(kBytes);
  std::thread receiver([&] {
    for (void* p : burst) small_deallocate(p, kBytes);
  });
  receiver.join();  // its cache went to the depot at thread exit, and batches before that
  const std::size_t given_back = thespian::detail::small_pool_trim();
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST(given_back == 0u);  // under ASan the pool is plain operator new/delete
#else
  BOOST_TEST(given_back >= burst.size() * kBytes);
#endif
  BOOST_TEST(thespian::detail::small_pool_trim() == 0u);
  block b{static_cast<unsigned char*>(small_allocate(kBytes)), kBytes, 0x5a};
  fill(b);
  BOOST_TEST(intact(b));
  small_deallocate(b.p, kBytes);
}

BOOST_AUTO_TEST_SUITE_END()
