// cell_block: the allocator that puts an actor's cell, its shared_ptr control block and the
// actor itself in one block (system_core::spawn). Creating an actor then costs one allocation
// instead of two, and the block comes from the small pool (a per-thread free list once warm)
// rather than from glibc, whose tcache a burst of creations outruns.
#pragma once

#include <array>
#include <cstddef>
#include <new>

#include "core/actor_cell.hpp"
#include "thespian/detail/small_pool.hpp"

namespace thespian::detail {

// The actor's room starts this aligned; a type that needs more gets an allocation of its own.
inline constexpr std::size_t kCellBlockAlign = alignof(std::max_align_t);

// Where this thread's last cell_block_allocator::allocate() left the actor's room: read right
// after std::allocate_shared returns (the control block's type, which allocate() sees, is the
// library's, so the room's offset is only known there).
inline thread_local void* cell_block_room = nullptr;

// For std::allocate_shared<actor_cell>, an actor too large for fixed_cell_block_allocator's
// blocks: allocates the control block (which holds the cell) followed by `extra` bytes for the
// actor. Stateful (8 bytes in the control block): the block's size must be known again to
// free it.
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

// The same with no state: every block is `Block` bytes (one of the small pool's classes) and
// the actor's room starts `Head` bytes in, so the room holds Block - Head bytes. The control
// block keeps no size (an idle actor is mostly this block: 8 bytes of it are ~3% of one).
// system_core::spawn picks the smallest Block whose room fits the actor.
template <class T, std::size_t Head, std::size_t Block>
struct fixed_cell_block_allocator {
  static_assert(Head % kCellBlockAlign == 0 && Head < Block);
  using value_type = T;
  template <class U>
  struct rebind {
    using other = fixed_cell_block_allocator<U, Head, Block>;
  };

  fixed_cell_block_allocator() noexcept = default;
  template <class U>
  fixed_cell_block_allocator(const fixed_cell_block_allocator<U, Head, Block>&) noexcept {}  // NOLINT

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= kCellBlockAlign);
    // The control block: allocate_shared asks for one (n == 1). A library whose control block
    // outgrows Head fails here at compile time, for the type it really allocates.
    static_assert(sizeof(T) <= Head, "the control block outgrew the cell block's head");
    if (n != 1) throw std::bad_array_new_length();
    char* block = static_cast<char*>(small_allocate(Block));
    cell_block_room = block + Head;
    return reinterpret_cast<T*>(block);
  }
  void deallocate(T* p, std::size_t) noexcept { small_deallocate(p, Block); }

  template <class U>
  friend bool operator==(const fixed_cell_block_allocator&,
                         const fixed_cell_block_allocator<U, Head, Block>&) noexcept {
    return true;
  }
};

// Where the actor's room starts in an actor's block: behind the control block (the library's
// vtable pointer and two counts, then the cell), aligned. fixed_cell_block_allocator checks at
// compile time that the control block it really allocates fits.
inline constexpr std::size_t kCellHead =
    (2 * sizeof(void*) + sizeof(actor_cell) + kCellBlockAlign - 1) & ~(kCellBlockAlign - 1);
// The sizes an actor's block comes in, each a small-pool class; the first fits an actor with
// no state of its own (most of an idle actor's bytes). Larger actors take
// cell_block_allocator's blocks.
inline constexpr std::array<std::size_t, 7> kCellBlocks{248, 288, 320, 384, 512, 768, 1024};
static_assert(kCellHead + sizeof(Actor) <= kCellBlocks[0]);

// The block that fixed_cell_block_allocator gives an actor of `room` bytes; 0: none fits.
constexpr std::size_t cell_block_bytes(std::size_t room) noexcept {
  for (std::size_t block : kCellBlocks) {
    if (room <= block - kCellHead) return block;
  }
  return 0;
}

}  // namespace thespian::detail
