// Implements system_route.hpp.
#include "system/multiproc/system_route.hpp"

#include <link.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <system_error>

#include <absl/strings/str_format.h>

#include "system/process/unique_fd.hpp"
#include "thespian/errors.hpp"

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

// The ports this process reserved for systems that will listen there (reserve_tcp_route).
// A forked process inherits this map but not the sockets (keep_only_descriptor closes them),
// and their numbers get reused: releasing an inherited entry would close some other file of
// the child, e.g. its bootstrap socket when a later route of its own happened to get the same
// port. So entries count only in the process that made them: the first use in another process
// forgets them unclosed. (A fork happens only in a single-threaded process, so the mutex is
// never inherited locked.)
struct reservations {
  std::mutex mutex;
  pid_t owner = ::getpid();
  std::map<std::uint64_t, process::unique_fd> held;
};
// Call with r.mutex held.
reservations& reserved_here(reservations& r) {
  if (const pid_t me = ::getpid(); r.owner != me) {
    for (auto& [id, fd] : r.held) (void)fd.release();
    r.held.clear();
    r.owner = me;
  }
  return r;
}
reservations& reserved() {
  static reservations r;
  return r;
}

constexpr std::uint64_t ip_shift = 16;

}  // namespace

route_kind kind_of(std::uint64_t system_id) noexcept {
  return static_cast<route_kind>(system_id >> kind_shift);
}

bool has_port(route_kind kind) noexcept { return kind == route_kind::tcp || kind == route_kind::udp; }

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
  if (kind_of(system_id) == route_kind::reverse) {
    return absl::StrFormat("reverse:%x", system_id & name_mask);
  }
  if (has_port(kind_of(system_id))) {
    const auto route = tcp_route(system_id);
    return absl::StrFormat("%s:%s:%d", kind_of(system_id) == route_kind::tcp ? "tcp" : "udp",
                           route.address().to_string(), route.port());
  }
  return absl::StrFormat("unix:%x", system_id & name_mask);
}

route_kind route_kind_of_base(std::string_view base) {
  if (base == "multiprocTCPBase") return route_kind::tcp;
  return base == "multiprocUDPBase" ? route_kind::udp : route_kind::unix_socket;
}

std::uint64_t tcp_system_id(const asio::ip::address_v4& ip, std::uint16_t port) {
  return port_system_id(route_kind::tcp, ip, port);
}

std::uint64_t port_system_id(route_kind kind, const asio::ip::address_v4& ip, std::uint16_t port) {
  return (static_cast<std::uint64_t>(kind) << kind_shift) |
         (static_cast<std::uint64_t>(ip.to_uint()) << ip_shift) | port;
}

asio::ip::udp::endpoint udp_route(std::uint64_t system_id) {
  const auto route = tcp_route(system_id);
  return {route.address(), route.port()};
}

asio::ip::tcp::endpoint tcp_route(std::uint64_t system_id) {
  const auto ip = static_cast<std::uint32_t>((system_id & name_mask) >> ip_shift);
  return {asio::ip::address_v4(ip), static_cast<std::uint16_t>(system_id & 0xffff)};
}

std::uint64_t reserve_tcp_route(const asio::ip::address_v4& ip) {
  return reserve_port_route(route_kind::tcp, ip);
}

std::uint64_t reserve_port_route(route_kind kind, const asio::ip::address_v4& ip) {
  const bool udp = kind == route_kind::udp;
  // A raw socket rather than an asio acceptor: it is only bound, never used for I/O, and must
  // not need an io_context (a client reserves its route before any thread starts).
  auto fail = [udp](const char* step) {
    throw ActorSystemStartupFailure(
        absl::StrFormat("cannot reserve a %s port for an actor system (%s: %s)",
                        udp ? "UDP" : "TCP", step, std::strerror(errno)));
  };
  process::unique_fd socket(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!socket) fail("socket");
  const int on = 1;
  // UDP: the port is shared only once it is chosen. A UDP socket that binds port 0 with
  // SO_REUSEPORT (or SO_REUSEADDR) may be given a port that another such socket of this user
  // holds (the kernel sees no conflict), i.e. two children on one port, each receiving some of
  // the other's datagrams. Bound plainly it gets a port nobody holds.
  if (!udp && (::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
               ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)) {
    fail("setsockopt");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(ip.to_uint());
  address.sin_port = 0;
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail("bind");
  }
  socklen_t length = sizeof address;
  if (::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("getsockname");
  }
  // The child joins it with SO_REUSEPORT. A UDP socket bound to the port would receive its
  // share of the child's datagrams; connected to itself it receives only what it sends itself,
  // i.e. nothing (system_route.hpp).
  if (udp && ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    fail("setsockopt");
  }
  if (udp && ::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    fail("connect");
  }
  const std::uint64_t id = port_system_id(kind, ip, ntohs(address.sin_port));
  auto& r = reserved();
  std::lock_guard lock(r.mutex);
  reserved_here(r).held[id] = std::move(socket);
  return id;
}

void release_route(std::uint64_t system_id) {
  process::unique_fd released;
  auto& r = reserved();
  std::lock_guard lock(r.mutex);
  reserved_here(r);
  if (auto it = r.held.find(system_id); it != r.held.end()) {
    released = std::move(it->second);
    r.held.erase(it);
  }
}

namespace {
// Every system numbers its own external and reply endpoints from 1 up (system_core), so ids
// derived here stay clear of small numbers; the admin's is the top of the range.
constexpr std::uint64_t tcp_admin_endpoint_id = ~std::uint64_t{0} - 1;
constexpr std::uint64_t smallest_random_id = std::uint64_t{1} << 32;
}  // namespace

std::uint64_t new_actor_endpoint_id(std::uint64_t system_id) {
  if (!has_port(kind_of(system_id))) return system_id;
  std::uint64_t id = 0;
  while (id < smallest_random_id || id >= tcp_admin_endpoint_id) id = random_bits();
  return id;
}

struct routing routing_of(const Capabilities& caps) {
  auto flag = [&caps](const char* name) {
    auto it = caps.find(name);
    if (it == caps.end()) return false;
    if (const auto* b = std::get_if<bool>(&it->second)) return *b;
    if (const auto* n = std::get_if<std::int64_t>(&it->second)) return *n != 0;
    if (const auto* text = std::get_if<std::string>(&it->second)) {
      return *text == "true" || *text == "True" || *text == "1";
    }
    return false;
  };
  struct routing r;
  r.outbound_only = flag("Outbound Only");
  r.via_admin = r.outbound_only || flag("Admin Routing");
  return r;
}

std::uint64_t new_routed_endpoint_id() {
  // The admin's own endpoint (2^64-2) lies in the top block: that block is never chosen.
  const std::uint64_t top_block = relay_block_of(tcp_admin_endpoint_id);
  std::uint64_t id = 0;
  while (id < smallest_random_id || relay_block_of(id) == top_block) {
    id = random_bits() & ~((std::uint64_t{1} << relay_block_bits) - 1);
  }
  return id;
}

bool is_routed_actor_block(std::uint64_t endpoint_id) noexcept {
  return endpoint_id >= smallest_random_id &&
         relay_block_of(endpoint_id) != relay_block_of(tcp_admin_endpoint_id);
}

asio::ip::tcp::endpoint reverse_peer(std::uint64_t system_id) {
  const std::uint64_t name = system_id & name_mask;
  const auto ip = static_cast<std::uint32_t>((name >> 16) & 0xffffff);  // 0.x.y.z
  return {asio::ip::address_v4(ip), static_cast<std::uint16_t>(name & 0xffff)};
}

std::uint64_t admin_endpoint_id(std::uint64_t system_id) {
  return has_port(kind_of(system_id)) ? tcp_admin_endpoint_id : system_id;
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
