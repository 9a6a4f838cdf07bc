// The per-thread current wire_byte_source and the count check used by the hardened cereal loads.
#include "core/wire_budget.hpp"

#include <cstdint>
#include <limits>

#include <absl/strings/str_format.h>
#include <cereal/details/helpers.hpp>

#include "thespian/detail/bounded_load.hpp"

namespace thespian::detail {
namespace {
thread_local const wire_byte_source* current_source = nullptr;
}  // namespace

wire_budget_scope::wire_budget_scope(const wire_byte_source& source) noexcept
    : previous_(current_source) {
  current_source = &source;
}

wire_budget_scope::~wire_budget_scope() { current_source = previous_; }

std::size_t wire_bytes_left() noexcept {
  return current_source ? current_source->remaining() : std::numeric_limits<std::size_t>::max();
}

void check_wire_count(std::uint64_t count, std::size_t min_bytes_each, const char* what) {
  const std::size_t left = wire_bytes_left();
  const std::uint64_t each = min_bytes_each == 0 ? 1 : min_bytes_each;
  if (count > left / each) {
    throw cereal::Exception(absl::StrFormat(
        "%s of %d elements cannot fit in the %d bytes left in the frame", what, count, left));
  }
}

}  // namespace thespian::detail
