// A loopback port (TCP and UDP) that was free a moment ago, for tests that give each
// multiprocTCPBase or multiprocUDPBase system an Admin Port of its own. It is picked at random
// *below* the kernel's ephemeral range: every actor process reserves its port from that range
// (port 0), so a port from it could be taken by another test's actor between this check and
// the admin's bind. Shared by the test
// programs; header-only so that each links nothing new.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>

namespace thespian_test_common {

// Whether `port` can be bound on 127.0.0.1 now, for TCP and for UDP (multiprocUDPBase).
inline bool loopback_port_is_free(int port) {
  for (const int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (s < 0) throw std::runtime_error("socket() for a free port failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool bound = ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(s);
    if (!bound) return false;
  }
  return true;
}

inline std::int64_t free_loopback_port() {
  int ephemeral_low = 32768, ephemeral_high = 60999;
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  range >> ephemeral_low >> ephemeral_high;
  // Below the ephemeral range if there is room there, else above it.
  const bool below = ephemeral_low > 11000;
  const int low = below ? 10000 : ephemeral_high + 1;
  const int high = below ? ephemeral_low - 1 : 65535;
  if (low >= high) throw std::runtime_error("no port range outside the ephemeral one");
  std::mt19937 pick(std::random_device{}());
  std::uniform_int_distribution<int> port(low, high);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int candidate = port(pick);
    if (loopback_port_is_free(candidate)) return candidate;
  }
  throw std::runtime_error("no free loopback port outside the ephemeral range");
}

}  // namespace thespian_test_common
