// Registers the message types that fixture.hpp declares, and the standard containers that several
// suites send as messages, so they can cross processes on the multi-process bases (once per
// program, as THESPIAN_MESSAGE requires; the library registers strings, integers and addresses).
#include <cereal/types/map.hpp>
#include <cereal/types/vector.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.hpp"

THESPIAN_MESSAGE(thespian_test::DeadLetter);
THESPIAN_MESSAGE(std::vector<thespian::ActorAddress>);
THESPIAN_MESSAGE(thespian::Capabilities);

namespace thespian_test {

std::int64_t free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  BOOST_REQUIRE_MESSAGE(s >= 0, "socket() for a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool bound = ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(s);
  BOOST_REQUIRE_MESSAGE(bound, "binding a loopback port for the admin");
  return ntohs(address.sin_port);
}

}  // namespace thespian_test
