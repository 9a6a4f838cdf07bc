// small_pool: where a Message's payload (and a mailbox's chunks) get their memory. Each thread
// keeps free lists of small blocks by size; a thread that frees more than it allocates (an
// actor receiving from senders on other threads) hands whole batches to a shared depot, where
// the allocating threads pick them up. A message then costs no malloc and no free on the hot
// path, and a payload allocated on one thread and freed on another never takes a glibc arena
// lock or makes glibc trim and regrow its heap (what dominated eight-to-one fan-in). Not part
// of the API: Message's constructor uses it.
#pragma once

#include <cstddef>
#include <new>

#include "thespian/export.hpp"

namespace thespian::detail {

// Blocks of up to this many bytes come from the pool; larger ones from operator new.
inline constexpr std::size_t kSmallPoolMax = 1024;

// Any thread. `bytes` > 0; a request above kSmallPoolMax goes to operator new.
THESPIAN_EXPORT void* small_allocate(std::size_t bytes);
// Any thread: `p` from small_allocate with the same `bytes`.
THESPIAN_EXPORT void small_deallocate(void* p, std::size_t bytes) noexcept;

// Any thread: gives every block the shared depot keeps back to operator delete (then
// malloc_trim can return them to the system), as after a burst that is over. Threads' own
// caches (a few hundred blocks each at most) are left alone. Returns the bytes given back.
THESPIAN_EXPORT std::size_t small_pool_trim() noexcept;

// The allocator that Message gives std::allocate_shared.
template <class T>
struct small_allocator {
  using value_type = T;
  small_allocator() noexcept = default;
  template <class U>
  small_allocator(const small_allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) {
    if constexpr (alignof(T) > alignof(std::max_align_t)) {
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
    } else {
      return static_cast<T*>(small_allocate(n * sizeof(T)));
    }
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if constexpr (alignof(T) > alignof(std::max_align_t)) {
      ::operator delete(p, std::align_val_t(alignof(T)));
    } else {
      small_deallocate(p, n * sizeof(T));
    }
  }
  template <class U>
  friend bool operator==(const small_allocator&, const small_allocator<U>&) noexcept {
    return true;
  }
};

}  // namespace thespian::detail
