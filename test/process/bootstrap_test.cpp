// The bootstrap frame, in process: round trips, and hostile or broken frames read as
// `malformed` (never a crash or a large allocation), a closed peer as `closed`.
#include <sys/socket.h>

#include <array>
#include <cstddef>

#include <boost/test/unit_test.hpp>

#include "support.hpp"
#include "system/process/bootstrap.hpp"

namespace process_test {
namespace {

namespace proc = thespian::detail::process;

std::array<std::byte, 8> header(std::uint32_t magic, std::uint32_t length) {
  std::array<std::byte, 8> h;
  for (int i = 0; i < 4; ++i) {
    h[i] = static_cast<std::byte>(magic >> (24 - 8 * i));
    h[4 + i] = static_cast<std::byte>(length >> (24 - 8 * i));
  }
  return h;
}

constexpr std::uint32_t magic = 0x54484253;

auto soon() { return clock_type::now() + generous; }

}  // namespace

BOOST_AUTO_TEST_SUITE(process_bootstrap)

BOOST_AUTO_TEST_CASE(a_request_and_a_reply_round_trip) {
  auto [a, b] = proc::make_socket_pair(SOCK_STREAM);
  proc::bootstrap_request request{"app::Worker", std::string("arg\0with nul", 12)};
  proc::write_bootstrap(a.get(), request, soon());
  auto read = proc::read_bootstrap_request(b.get(), soon());
  BOOST_TEST_REQUIRE(read.value.has_value(), read.why);
  BOOST_TEST(read.value->entry == "app::Worker");
  BOOST_TEST(read.value->argument == request.argument);

  proc::bootstrap_reply reply{proc::bootstrap_reply::outcome::unknown_entry, "no such thing"};
  proc::write_bootstrap(b.get(), reply, soon());
  auto back = proc::read_bootstrap_reply(a.get(), soon());
  BOOST_TEST_REQUIRE(back.value.has_value(), back.why);
  BOOST_TEST(back.value->detail == "no such thing");
  BOOST_TEST(static_cast<int>(back.value->result) == static_cast<int>(reply.result));
}

BOOST_AUTO_TEST_CASE(a_length_above_the_limit_is_malformed_before_any_allocation) {
  auto [a, b] = proc::make_socket_pair(SOCK_STREAM);
  proc::write_all(a.get(), header(magic, 0xFFFFFFF0u), soon());
  auto read = proc::read_bootstrap_request(b.get(), soon());
  BOOST_TEST(!read.value.has_value());
  BOOST_TEST(static_cast<int>(read.error) == static_cast<int>(proc::bootstrap_read_error::malformed));
  BOOST_TEST(read.why.find("exceeds") != std::string::npos, read.why);
}

BOOST_AUTO_TEST_CASE(a_text_length_above_the_limit_is_malformed) {
  auto [a, b] = proc::make_socket_pair(SOCK_STREAM);
  // cereal's portable binary: its endianness byte (1: little), version 1, then an entry name
  // claiming 2 GiB.
  const std::array<std::byte, 9> payload{std::byte{1}, std::byte{1}, {}, {}, {},
                                         {}, {}, {}, std::byte{0x80}};
  proc::write_all(a.get(), header(magic, payload.size()), soon());
  proc::write_all(a.get(), payload, soon());
  auto read = proc::read_bootstrap_request(b.get(), soon());
  BOOST_TEST(!read.value.has_value());
  BOOST_TEST(read.why.find("text length") != std::string::npos, read.why);
}

BOOST_AUTO_TEST_CASE(a_truncated_frame_is_malformed_and_silence_then_close_is_closed) {
  {
    auto [a, b] = proc::make_socket_pair(SOCK_STREAM);
    proc::write_all(a.get(), header(magic, 100), soon());
    a.reset();
    auto read = proc::read_bootstrap_request(b.get(), soon());
    BOOST_TEST(static_cast<int>(read.error) ==
               static_cast<int>(proc::bootstrap_read_error::malformed));
  }
  {
    auto [a, b] = proc::make_socket_pair(SOCK_STREAM);
    a.reset();
    auto read = proc::read_bootstrap_request(b.get(), soon());
    BOOST_TEST(static_cast<int>(read.error) == static_cast<int>(proc::bootstrap_read_error::closed));
  }
}

BOOST_AUTO_TEST_CASE(a_peer_that_says_nothing_times_out_at_the_deadline) {
  auto [a, b] = proc::make_socket_pair(SOCK_STREAM);
  auto read = proc::read_bootstrap_request(b.get(), clock_type::now() + 20ms);
  BOOST_TEST(static_cast<int>(read.error) == static_cast<int>(proc::bootstrap_read_error::timed_out));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace process_test
