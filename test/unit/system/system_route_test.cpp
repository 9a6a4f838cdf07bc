// Unit tests of the port reservations in src/system/multiproc/system_route.cpp: a reservation is
// released only in the process that made it. A forked process inherits the table but not the
// sockets, and the numbers of those sockets soon name other files of the child; releasing an
// inherited entry once closed an actor process's bootstrap socket (its route had been given the
// same port as a reservation of the program that forked its ancestors).
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

#include <asio/ip/address_v4.hpp>

#include "system/multiproc/system_route.hpp"

namespace {

namespace route = thespian::detail::multiproc;

BOOST_AUTO_TEST_SUITE(system_route)

BOOST_AUTO_TEST_CASE(a_forked_child_never_closes_a_file_through_an_inherited_reservation) {
  const std::uint64_t id = route::reserve_tcp_route(asio::ip::address_v4::loopback());
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    // What an actor process does first (keep_only_descriptor): every inherited file goes...
    ::close_range(3, ~0U, 0);
    // ...and new ones take the lowest numbers, the reservation's among them.
    std::vector<int> mine;
    for (int i = 0; i < 64; ++i) {
      int ends[2];
      if (::pipe2(ends, O_CLOEXEC) != 0) ::_exit(2);
      mine.push_back(ends[0]);
      mine.push_back(ends[1]);
    }
    // The child's own route of that port (the kernel handed it out again) goes live.
    route::release_route(id);
    for (int fd : mine) {
      if (::fcntl(fd, F_GETFD) < 0) ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_REQUIRE(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0, "exit code " << WEXITSTATUS(status)
                                                    << " (1: the child's file was closed)");
  route::release_route(id);
}

BOOST_AUTO_TEST_CASE(a_reservation_holds_its_port_until_released_in_its_own_process) {
  const std::uint64_t id = route::reserve_tcp_route(asio::ip::address_v4::loopback());
  const auto port = route::tcp_route(id).port();
  BOOST_TEST(port != 0);
  // Held: a plain bind (no SO_REUSEPORT) to that port fails.
  auto bind_to = [port] {
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
  };
  BOOST_TEST(!bind_to());
  route::release_route(id);
  BOOST_TEST(bind_to());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
