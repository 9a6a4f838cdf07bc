// cell_block: the one block an actor's reference counts, its cell and the actor itself share
// (system_core::spawn, make_endpoint_at). Creating an actor then costs one allocation, and the
// block comes from the small pool (a per-thread free list once warm) rather than from glibc,
// whose tcache a burst of creations outruns. Its size follows from the actor's type alone, so
// the cell needs no field to say how its block is given back (actor_cell::pooled_block_bytes).
#pragma once

#include <array>
#include <cstddef>

#include "core/actor_cell.hpp"
#include "core/endpoint.hpp"
#include "thespian/actor.hpp"

namespace thespian::detail {

// The actor's room starts this aligned; a type that needs more is made by type.make() in an
// allocation of its own.
inline constexpr std::size_t kCellBlockAlign = alignof(std::max_align_t);

// Where the actor's room starts in an actor's block: behind the counts and the cell, aligned.
inline constexpr std::size_t kCellHead =
    (kEndpointOffset + sizeof(actor_cell) + kCellBlockAlign - 1) & ~(kCellBlockAlign - 1);
// Where the actor sits counted from its cell.
inline constexpr std::size_t kActorOffset = kCellHead - kEndpointOffset;

// The sizes a block comes in, each a small-pool class: the first fits an actor with no state
// of its own (most of an idle actor's bytes). A block for a larger actor is sized to fit.
inline constexpr std::array<std::size_t, 7> kCellBlocks{200, 288, 320, 384, 512, 768, 1024};
static_assert(kCellHead + sizeof(Actor) <= kCellBlocks[0]);

// The actor of this type is constructed in its cell's block (type.make_at); else type.make()
// makes it elsewhere and the block holds the cell alone.
inline bool actor_in_cell_block(const actor_type& type) noexcept {
  return type.make_at && type.align <= kCellBlockAlign;
}

// The bytes of the block of a cell for an actor of this type.
inline std::size_t cell_block_bytes(const actor_type& type) noexcept {
  const std::size_t needed = kCellHead + (actor_in_cell_block(type) ? type.size : 0);
  for (std::size_t block : kCellBlocks) {
    if (needed <= block) return block;
  }
  return needed;
}

}  // namespace thespian::detail
