// Implements small_pool (include/thespian/detail/small_pool.hpp): per-thread free lists by
// size class, batches of kBatch blocks exchanged with one shared depot under a mutex. Every
// block is its own operator-new allocation of its class's size, so whatever the pool does not
// keep (above the depot's cap, after a thread's cache is gone, under ASan) is freed with plain
// operator delete.
#include "thespian/detail/small_pool.hpp"

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

namespace thespian::detail {
namespace {

// Size classes: 16-byte steps to 128, then coarser to kSmallPoolMax. 200 and the larger ones
// up to 1024: the blocks an actor's cell comes in (kCellBlocks, cell_block.hpp), an idle
// actor being mostly one of them. 200, not 208: glibc adds 8 bytes to each operator-new
// block and rounds to 16, so a 16k + 8 class wastes nothing (200 -> 208, 208 -> 224).
constexpr std::array<std::uint32_t, 23> kClassSize{16,  32,  48,  64,  80,  96,  112, 128,
                                                   160, 192, 200, 224, 256, 288, 320, 352,
                                                   384, 448, 512, 640, 768, 896, 1024};
constexpr std::size_t kClasses = kClassSize.size();
static_assert(kClassSize.back() == kSmallPoolMax);

// 8-byte granules (200 is not a multiple of 16).
constexpr std::size_t kGranule = 8;
// class_of[(bytes + 7) / 8]: the smallest class that holds `bytes`.
constexpr auto kClassOf = [] {
  std::array<std::uint8_t, kSmallPoolMax / kGranule + 1> table{};
  std::size_t c = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    while (kClassSize[c] < i * kGranule) ++c;
    table[i] = static_cast<std::uint8_t>(c);
  }
  return table;
}();
constexpr std::size_t class_of(std::size_t bytes) noexcept {
  return kClassOf[(bytes + kGranule - 1) / kGranule];
}
static_assert(kClassSize[class_of(200)] == 200 && kClassSize[class_of(201)] == 224);

// Blocks a thread moves to or from the depot at once, and what it keeps before giving back.
constexpr std::uint32_t kBatch = 64;
constexpr std::uint32_t kKeep = 2 * kBatch;
// Beyond this many bytes in the depot, returned batches go back to operator delete. Enough
// for a burst of ~100k small messages in flight (eight senders bursting into one actor: with
// 1 MiB, most of such a burst went through glibc again and fan-in took 1.6x as long), few
// enough that an idle system keeps at most this much that malloc_trim could have returned.
constexpr std::size_t kDepotCap = std::size_t{16} << 20;

struct free_block {
  free_block* next;
};

struct batch {
  free_block* head;
  std::uint32_t count;
};

void free_list(free_block* head) noexcept {
  while (head) {
    free_block* next = head->next;
    ::operator delete(head);
    head = next;
  }
}

// Never destroyed: threads that outlive static destruction may still free into it.
struct depot {
  std::mutex mutex;
  std::array<std::vector<batch>, kClasses> batches;
  // batches[c].size(), read without the mutex: a thread that finds none left takes operator
  // new's block without locking (a backlog larger than the depot otherwise took the mutex for
  // every allocation).
  std::array<std::atomic<std::size_t>, kClasses> available{};
  std::size_t bytes = 0;

  bool take(std::size_t c, batch& out) {
    if (available[c].load(std::memory_order_relaxed) == 0) return false;
    std::lock_guard lock(mutex);
    if (batches[c].empty()) return false;
    out = batches[c].back();
    batches[c].pop_back();
    available[c].store(batches[c].size(), std::memory_order_relaxed);
    bytes -= std::size_t{out.count} * kClassSize[c];
    return true;
  }
  void give(std::size_t c, batch b) noexcept {
    {
      std::lock_guard lock(mutex);
      const std::size_t size = std::size_t{b.count} * kClassSize[c];
      if (bytes + size <= kDepotCap) {
        try {
          batches[c].push_back(b);
          available[c].store(batches[c].size(), std::memory_order_relaxed);
          bytes += size;
          return;
        } catch (...) {
          // no room to remember it: free it below
        }
      }
    }
    free_list(b.head);
  }
};

depot* make_depot();

depot& the_depot() {
  static depot* d = make_depot();
  return *d;
}

// A fork while another thread holds the depot's mutex would leave the child's copy locked for
// good (the multi-process bases fork): like malloc's own locks, it is held across fork().
void lock_depot() noexcept { the_depot().mutex.lock(); }
void unlock_depot() noexcept { the_depot().mutex.unlock(); }

depot* make_depot() {
  auto* d = new depot;
  ::pthread_atfork(lock_depot, unlock_depot, unlock_depot);
  return d;
}

struct thread_cache {
  std::array<free_block*, kClasses> head{};
  std::array<std::uint32_t, kClasses> count{};
};

// The calling thread's cache: made on first use, given back to the depot at thread exit.
// After that (other thread-local destructors freeing messages) the thread bypasses the pool.
thread_local thread_cache* cache = nullptr;
thread_local bool cache_gone = false;

struct cache_owner {
  thread_cache storage;
  cache_owner() noexcept { cache = &storage; }
  ~cache_owner() {
    cache = nullptr;
    cache_gone = true;
    for (std::size_t c = 0; c < kClasses; ++c) {
      if (storage.head[c]) the_depot().give(c, batch{storage.head[c], storage.count[c]});
    }
  }
};

[[maybe_unused, gnu::noinline]] thread_cache* make_cache() {
  if (cache_gone) return nullptr;
  thread_local cache_owner owner;
  return cache;
}

[[maybe_unused]] thread_cache* my_cache() {  // unused under ASan (below)
  if (cache) [[likely]] return cache;
  return make_cache();
}

// Moves the first kBatch blocks of the thread's list for class c into a batch.
[[maybe_unused]] batch split_batch(thread_cache& tc, std::size_t c) noexcept {
  free_block* head = tc.head[c];
  free_block* last = head;
  for (std::uint32_t i = 1; i < kBatch; ++i) last = last->next;
  tc.head[c] = last->next;
  tc.count[c] -= kBatch;
  last->next = nullptr;
  return batch{head, kBatch};
}

}  // namespace

std::size_t small_pool_trim() noexcept {
  std::array<std::vector<batch>, kClasses> taken;
  std::size_t bytes = 0;
  {
    depot& d = the_depot();
    std::lock_guard lock(d.mutex);
    for (std::size_t c = 0; c < kClasses; ++c) {
      taken[c].swap(d.batches[c]);
      d.available[c].store(0, std::memory_order_relaxed);
    }
    bytes = std::exchange(d.bytes, 0);
  }
  for (auto& batches : taken) {
    for (const batch& b : batches) free_list(b.head);
  }
  return bytes;
}

#if defined(__SANITIZE_ADDRESS__)
// Under ASan every block is its own allocation, so use-after-free and leaks stay visible.
void* small_allocate(std::size_t bytes) { return ::operator new(bytes); }
void small_deallocate(void* p, std::size_t) noexcept { ::operator delete(p); }
#else

namespace {

// The slow paths, out of line: kept in the fast paths, they made the compiler save and restore
// six registers on every call (~15 instructions of each message's allocation and free).
[[gnu::noinline]] void* allocate_slow(std::size_t c, thread_cache* tc) {
  if (!tc) return ::operator new(kClassSize[c]);
  batch refill;
  if (!the_depot().take(c, refill)) return ::operator new(kClassSize[c]);
  free_block* b = refill.head;
  tc->head[c] = b->next;
  __builtin_prefetch(b->next, 1);
  tc->count[c] = refill.count - 1;
  return b;
}

[[gnu::noinline]] void give_batch(thread_cache& tc, std::size_t c) noexcept {
  the_depot().give(c, split_batch(tc, c));
}

}  // namespace

void* small_allocate(std::size_t bytes) {
  if (bytes > kSmallPoolMax) return ::operator new(bytes);
  const std::size_t c = class_of(bytes);
  thread_cache* tc = my_cache();
  free_block* b = tc ? tc->head[c] : nullptr;
  if (!b) [[unlikely]] return allocate_slow(c, tc);
  free_block* next = b->next;
  tc->head[c] = next;
  --tc->count[c];
  // The next block of the list was most often freed on another thread (a receiver's): fetch
  // it now, for writing, so that the next allocation does not wait for it (reading its `next`
  // was the costliest load of a fan-in sender).
  __builtin_prefetch(next, 1);
  return b;
}

void small_deallocate(void* p, std::size_t bytes) noexcept {
  if (bytes > kSmallPoolMax) {
    ::operator delete(p);
    return;
  }
  const std::size_t c = class_of(bytes);
  thread_cache* tc = my_cache();
  if (!tc) {
    ::operator delete(p);
    return;
  }
  auto* b = static_cast<free_block*>(p);
  b->next = tc->head[c];
  tc->head[c] = b;
  if (++tc->count[c] > kKeep) [[unlikely]] give_batch(*tc, c);
}

#endif

}  // namespace thespian::detail
