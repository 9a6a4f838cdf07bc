// cell_block: the allocator that puts an actor's cell, its shared_ptr control block and the
// actor itself in one block (system_core::spawn). Creating an actor then costs one allocation
// instead of two, and the block comes from the small pool (a per-thread free list once warm)
// rather than from glibc, whose tcache a burst of creations outruns.
#pragma once

#include <cstddef>

#include "thespian/detail/small_pool.hpp"

namespace thespian::detail {

// The actor's room starts this aligned; a type that needs more gets an allocation of its own.
inline constexpr std::size_t kCellBlockAlign = alignof(std::max_align_t);

// Where this thread's last cell_block_allocator::allocate() left the actor's room: read right
// after std::allocate_shared returns (the control block's type, which allocate() sees, is the
// library's, so the room's offset is only known there).
inline thread_local void* cell_block_room = nullptr;

// For std::allocate_shared<actor_cell>: allocates the control block (which holds the cell)
// followed by `extra` bytes for the actor. Stateful (8 bytes in the control block): the block's
// size must be known again to free it.
template <class T>
struct cell_block_allocator {
  using value_type = T;
  std::size_t extra;

  explicit cell_block_allocator(std::size_t extra_bytes) noexcept : extra(extra_bytes) {}
  template <class U>
  cell_block_allocator(const cell_block_allocator<U>& other) noexcept  // NOLINT
      : extra(other.extra) {}

  static constexpr std::size_t head(std::size_t n) noexcept {
    return (n * sizeof(T) + kCellBlockAlign - 1) & ~(kCellBlockAlign - 1);
  }
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= kCellBlockAlign);
    char* block = static_cast<char*>(small_allocate(head(n) + extra));
    cell_block_room = block + head(n);
    return reinterpret_cast<T*>(block);
  }
  void deallocate(T* p, std::size_t n) noexcept { small_deallocate(p, head(n) + extra); }

  template <class U>
  friend bool operator==(const cell_block_allocator& a, const cell_block_allocator<U>& b) noexcept {
    return a.extra == b.extra;
  }
};

}  // namespace thespian::detail
