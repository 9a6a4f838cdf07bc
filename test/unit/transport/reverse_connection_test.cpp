// Loopback tests of the stream channel's reverse connections (stream_channel.hpp), which carry
// Outbound Only on multiprocTCPBase: a peer that listens nowhere dials our listener and says
// hello; the listener hands the socket to the sending channel (adopt), which then sends that
// peer's frames on it. Checked: frames queued before the peer dialled in wait for it, arrive in
// order, and get their ACK/NACK outcomes back; a peer that never dials in is given up after the
// grace; a hello that nobody handles only closes that connection.
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include <absl/strings/str_cat.h>
#include <asio.hpp>

#include "channel_test_support.hpp"
#include "transport/stream_channel.hpp"
#include "transport/transport_settings.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::transport::send_status;
using thespian::transport::tcp_channel;
using thespian::transport::transport_settings;
using transport_support::eventually;
using transport_support::inbox;
using transport_support::outcomes;
using transport_support::quick_settings;
using transport_support::text_frame;

// How the sending side names a peer that dials in: an address in 0.0.0.0/8, never dialled.
asio::ip::tcp::endpoint reverse_name(std::uint64_t key) {
  return {asio::ip::address_v4(static_cast<std::uint32_t>(1)), static_cast<std::uint16_t>(key)};
}

// The sending side: a listener that adopts every hello into `outgoing`.
struct sending_side {
  explicit sending_side(transport_settings settings = quick_settings()) : outgoing(settings) {
    auto listening = quick_settings();
    listening.on_hello = [this](std::uint64_t key, int fd) { outgoing.adopt(reverse_name(key), fd); };
    listener = std::make_unique<tcp_channel>(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), ignored.handler(),
        listening);
  }
  inbox ignored;  // frames sent to the listener itself (none here)
  tcp_channel outgoing;
  std::unique_ptr<tcp_channel> listener;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(reverse_connection)

BOOST_AUTO_TEST_CASE(frames_wait_for_the_peer_to_dial_in_then_arrive_in_order_with_their_outcomes) {
  sending_side side;
  constexpr std::uint64_t key = 4242;
  side.outgoing.await_dial_from(reverse_name(key));
  auto target = unit_support::make_recording_endpoint();
  const std::size_t n = 600;  // under the high-water mark: nothing drains before the peer dials in
  outcomes results(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Message 300 finds no target at the peer: it must come back refused (NACK).
    side.outgoing.send(reverse_name(key),
                       text_frame(ActorAddress(target), i == 300 ? "gone" : absl::StrCat("m", i)),
                       results.handler(i));
  }
  BOOST_TEST(results.count() == 0u);  // nobody to send to yet
  inbox received;
  tcp_channel peer(side.listener->local_endpoint(), key, received.handler(), quick_settings());
  BOOST_TEST_REQUIRE(results.wait_for(n));
  BOOST_TEST(results.count_of(send_status::delivered) == n - 1);
  BOOST_TEST((results.at(300).status == send_status::no_such_target));
  const auto texts = received.texts();
  BOOST_TEST_REQUIRE(texts.size() == n - 1);
  std::size_t next = 0;
  for (const auto& text : texts) {
    if (next == 300) ++next;
    BOOST_TEST(text == absl::StrCat("m", next));
    ++next;
  }
  // One connection, dialled by the peer; the sending side dialled nothing.
  BOOST_TEST(side.listener->statistics().connections_accepted == 1u);
  BOOST_TEST(side.outgoing.statistics().connects == 1u);
  BOOST_TEST(peer.statistics().connections_accepted == 0u);
  // Later frames use the same connection.
  outcomes later(1);
  side.outgoing.send(reverse_name(key), text_frame(ActorAddress(target), "later"), later.handler(0));
  BOOST_TEST_REQUIRE(later.wait_for(1));
  BOOST_TEST((later.at(0).status == send_status::delivered));
  BOOST_TEST(received.texts().back() == "later");
}

BOOST_AUTO_TEST_CASE(a_peer_that_never_dials_in_is_given_up_after_the_grace) {
  auto settings = quick_settings();
  settings.peers_never_return = true;
  settings.first_connect_grace = 300ms;
  sending_side side(settings);
  side.outgoing.await_dial_from(reverse_name(7));
  auto target = unit_support::make_recording_endpoint();
  outcomes results(1);
  side.outgoing.send(reverse_name(7), text_frame(ActorAddress(target), "anyone?"),
                     results.handler(0));
  BOOST_TEST_REQUIRE(results.wait_for(1));
  BOOST_TEST((results.at(0).status == send_status::no_such_target));
}

BOOST_AUTO_TEST_CASE(losing_the_peer_fails_what_waits_for_it) {
  auto settings = quick_settings();
  settings.peers_never_return = true;
  sending_side side(settings);
  constexpr std::uint64_t key = 9;
  side.outgoing.await_dial_from(reverse_name(key));
  auto target = unit_support::make_recording_endpoint();
  inbox received;
  {
    tcp_channel peer(side.listener->local_endpoint(), key, received.handler(), quick_settings());
    outcomes first(1);
    side.outgoing.send(reverse_name(key), text_frame(ActorAddress(target), "hi"), first.handler(0));
    BOOST_TEST_REQUIRE(first.wait_for(1));
    BOOST_TEST((first.at(0).status == send_status::delivered));
  }  // the peer is gone, and it never comes back
  outcomes after(1);
  side.outgoing.send(reverse_name(key), text_frame(ActorAddress(target), "still there?"),
                     after.handler(0));
  BOOST_TEST_REQUIRE(after.wait_for(1));
  BOOST_TEST((after.at(0).status != send_status::delivered));
}

BOOST_AUTO_TEST_CASE(a_hello_nobody_handles_closes_only_that_connection) {
  inbox received;
  tcp_channel listener(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                       received.handler(), quick_settings());  // no on_hello
  inbox unused;
  tcp_channel peer(listener.local_endpoint(), 1, unused.handler(), quick_settings());
  BOOST_TEST(eventually([&] { return listener.statistics().connections_closed_on_error == 1u; }));
  // The listener still serves ordinary senders.
  tcp_channel sender(quick_settings());
  auto target = unit_support::make_recording_endpoint();
  outcomes results(1);
  sender.send(listener.local_endpoint(), text_frame(ActorAddress(target), "ordinary"),
              results.handler(0));
  BOOST_TEST_REQUIRE(results.wait_for(1));
  BOOST_TEST((results.at(0).status == send_status::delivered));
}

BOOST_AUTO_TEST_SUITE_END()
