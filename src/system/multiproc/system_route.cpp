// Implements system_route.hpp.
#include "system/multiproc/system_route.hpp"

#include <link.h>
#include <sys/random.h>

#include <cerrno>
#include <system_error>

#include <absl/strings/str_format.h>

namespace thespian::detail::multiproc {
namespace {

constexpr int kind_shift = 56;
constexpr std::uint64_t name_mask = (std::uint64_t{1} << kind_shift) - 1;

std::uint64_t random_bits() {
  std::uint64_t value = 0;
  auto* bytes = reinterpret_cast<char*>(&value);
  std::size_t got = 0;
  while (got < sizeof value) {
    const ssize_t n = ::getrandom(bytes + got, sizeof value - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom for a system id");
    }
    got += static_cast<std::size_t>(n);
  }
  return value;
}

int mix_object_base(dl_phdr_info* info, std::size_t, void* data) {
  auto& hash = *static_cast<std::uint64_t*>(data);
  hash = (hash ^ static_cast<std::uint64_t>(info->dlpi_addr)) * 0x100000001b3ULL;
  return 0;
}

}  // namespace

route_kind kind_of(std::uint64_t system_id) noexcept {
  return static_cast<route_kind>(system_id >> kind_shift);
}

std::uint64_t new_system_id(route_kind kind) {
  std::uint64_t name = 0;
  while (name == 0) name = random_bits() & name_mask;
  return (static_cast<std::uint64_t>(kind) << kind_shift) | name;
}

asio::local::stream_protocol::endpoint unix_route(std::uint64_t system_id) {
  std::string name = absl::StrFormat("thespian-%016x", system_id);
  name.insert(name.begin(), '\0');
  return asio::local::stream_protocol::endpoint(name);
}

std::string describe_route(std::uint64_t system_id) {
  return absl::StrFormat("unix:%x", system_id & name_mask);
}

std::uint64_t image_identity() {
  // Computed once: objects loaded later (dlopen) do not change what an existing pointer means.
  static const std::uint64_t identity = [] {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    ::dl_iterate_phdr(&mix_object_base, &hash);
    return hash;
  }();
  return identity;
}

}  // namespace thespian::detail::multiproc
