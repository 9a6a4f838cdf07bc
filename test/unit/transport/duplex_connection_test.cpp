// Loopback tests of the stream channel's duplex connections (stream_channel.hpp), which carry the
// frames between two actor processes: the dialler opens with an origin frame naming its route,
// the acceptor's listener hands the connection to its sending channel (adopt_duplex), and from
// then on both sides send data and answers on the one socket. Checked: frames go both ways on
// one connection with their ACK/NACK outcomes (an ACK also leaves when nothing is sent back);
// a side that already has its own connection to the dialler keeps it (the origin is then only
// a one-way connection's first frame); after the duplex connection is lost, frames to the
// dialler go over a connection to its listener.
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
using transport_support::inbox;
using transport_support::outcomes;
using transport_support::quick_settings;
using transport_support::text_frame;

asio::ip::tcp::endpoint any_loopback_port() {
  return {asio::ip::make_address("127.0.0.1"), 0};
}

// One "process": a listener and a sending channel. Frames arrive in `received` whichever of the
// two read them. `route` names this side in origin frames (duplex_route); the peer's side maps
// it back to our listener's endpoint.
struct side {
  side(std::uint64_t route, const std::function<asio::ip::tcp::endpoint(std::uint64_t)>& endpoint_of)
      : outgoing(with_route(route), received.handler()) {
    auto listening = quick_settings();
    listening.on_origin = [this, endpoint_of](std::uint64_t key, int fd, std::span<const char> rest) {
      return outgoing.adopt_duplex(endpoint_of(key), fd, rest);
    };
    listener = std::make_unique<tcp_channel>(any_loopback_port(), received.handler(), listening);
  }
  static transport_settings with_route(std::uint64_t route) {
    auto s = quick_settings();
    s.duplex_route = route;
    return s;
  }
  inbox received;
  tcp_channel outgoing;
  std::unique_ptr<tcp_channel> listener;
};

// Two sides that know each other's routes (1 and 2).
struct two_sides {
  two_sides()
      : a(1, [this](std::uint64_t key) { return endpoint_of(key); }),
        b(2, [this](std::uint64_t key) { return endpoint_of(key); }) {}
  asio::ip::tcp::endpoint endpoint_of(std::uint64_t key) const {
    return key == 1 ? a.listener->local_endpoint() : b.listener->local_endpoint();
  }
  side a;
  side b;
};

// Sends `texts` from `from` to `to` and waits for all their outcomes.
void send_all(tcp_channel& from, const asio::ip::tcp::endpoint& to, const ActorAddress& target,
              const std::vector<std::string>& texts, outcomes& results) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    from.send(to, text_frame(target, texts[i]), results.handler(i));
  }
  BOOST_TEST_REQUIRE(results.wait_for(texts.size()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(duplex_connection)

BOOST_AUTO_TEST_CASE(frames_go_both_ways_on_the_one_connection_the_dialler_opened) {
  two_sides sides;
  auto target = unit_support::make_recording_endpoint();
  const ActorAddress to(target);
  // a -> b first: a dials b's listener with an origin frame; b's sending channel adopts it.
  // Nothing goes back yet, so b's ACKs leave on their own.
  std::vector<std::string> there;
  for (int i = 0; i < 300; ++i) there.push_back(i == 100 ? "gone" : absl::StrCat("a", i));
  outcomes a_results(there.size());
  send_all(sides.a.outgoing, sides.b.listener->local_endpoint(), to, there, a_results);
  BOOST_TEST(a_results.count_of(send_status::delivered) == there.size() - 1);
  BOOST_TEST((a_results.at(100).status == send_status::no_such_target));
  // b -> a: on the same connection, read by a's sending channel.
  std::vector<std::string> back;
  for (int i = 0; i < 300; ++i) back.push_back(i == 200 ? "gone" : absl::StrCat("b", i));
  outcomes b_results(back.size());
  send_all(sides.b.outgoing, sides.a.listener->local_endpoint(), to, back, b_results);
  BOOST_TEST(b_results.count_of(send_status::delivered) == back.size() - 1);
  BOOST_TEST((b_results.at(200).status == send_status::no_such_target));
  // In order, each way.
  const auto at_b = sides.b.received.texts();
  const auto at_a = sides.a.received.texts();
  BOOST_TEST_REQUIRE(at_b.size() == there.size() - 1);
  BOOST_TEST_REQUIRE(at_a.size() == back.size() - 1);
  for (std::size_t i = 0, j = 0; i < there.size(); ++i) {
    if (there[i] != "gone") BOOST_TEST(at_b[j++] == there[i]);
  }
  for (std::size_t i = 0, j = 0; i < back.size(); ++i) {
    if (back[i] != "gone") BOOST_TEST(at_a[j++] == back[i]);
  }
  // One connection in all: a dialled it; b adopted it and dialled nothing.
  BOOST_TEST(sides.b.listener->statistics().connections_accepted == 1u);
  BOOST_TEST(sides.a.listener->statistics().connections_accepted == 0u);
  BOOST_TEST(sides.a.outgoing.statistics().connects == 1u);
  BOOST_TEST(sides.b.outgoing.statistics().connects == 1u);  // the adopted one
  // Replies interleaved with requests: a ping-pong of 50 rounds on it.
  for (int round = 0; round < 50; ++round) {
    outcomes ping(1), pong(1);
    send_all(sides.a.outgoing, sides.b.listener->local_endpoint(), to, {absl::StrCat("ping", round)}, ping);
    send_all(sides.b.outgoing, sides.a.listener->local_endpoint(), to, {absl::StrCat("pong", round)}, pong);
    BOOST_TEST((ping.at(0).status == send_status::delivered));
    BOOST_TEST((pong.at(0).status == send_status::delivered));
  }
  BOOST_TEST(sides.a.listener->statistics().connections_accepted == 0u);
  BOOST_TEST(sides.b.received.texts().back() == "ping49");
  BOOST_TEST(sides.a.received.texts().back() == "pong49");
}

BOOST_AUTO_TEST_CASE(a_side_that_has_its_own_connection_keeps_it) {
  two_sides sides;
  auto target = unit_support::make_recording_endpoint();
  const ActorAddress to(target);
  // b dials a first (with its own origin frame, which a adopts).
  outcomes first(1);
  send_all(sides.b.outgoing, sides.a.listener->local_endpoint(), to, {"b-first"}, first);
  BOOST_TEST((first.at(0).status == send_status::delivered));
  // Then a sends to b: a's link to b is that adopted connection, so a dials nothing.
  outcomes second(1);
  send_all(sides.a.outgoing, sides.b.listener->local_endpoint(), to, {"a-second"}, second);
  BOOST_TEST((second.at(0).status == send_status::delivered));
  BOOST_TEST(sides.a.listener->statistics().connections_accepted == 1u);
  BOOST_TEST(sides.b.listener->statistics().connections_accepted == 0u);
  BOOST_TEST(sides.a.received.texts() == std::vector<std::string>{"b-first"});
  BOOST_TEST(sides.b.received.texts() == std::vector<std::string>{"a-second"});
}

BOOST_AUTO_TEST_CASE(an_origin_whose_route_already_has_a_connection_stays_one_way) {
  two_sides sides;
  auto target = unit_support::make_recording_endpoint();
  const ActorAddress to(target);
  // a plain channel of b's (no duplex route) dials a: a one-way connection.
  tcp_channel plain(quick_settings());
  // b's sending channel dials a first; a adopts it. Then a second channel announcing route 2
  // dials a: a's link to route 2 has its connection, so a serves the second one one-way.
  outcomes first(1);
  send_all(sides.b.outgoing, sides.a.listener->local_endpoint(), to, {"b-first"}, first);
  tcp_channel second_b(side::with_route(2), sides.b.received.handler());
  outcomes second(1);
  send_all(second_b, sides.a.listener->local_endpoint(), to, {"from-second"}, second);
  BOOST_TEST((second.at(0).status == send_status::delivered));
  BOOST_TEST(sides.a.listener->statistics().connections_accepted == 2u);
  // a still answers route 2 on the first connection: it arrives at b's sending channel.
  outcomes back(1);
  send_all(sides.a.outgoing, sides.b.listener->local_endpoint(), to, {"to-b"}, back);
  BOOST_TEST((back.at(0).status == send_status::delivered));
  BOOST_TEST(sides.b.received.texts() == std::vector<std::string>{"to-b"});
  BOOST_TEST(sides.b.listener->statistics().connections_accepted == 0u);
  outcomes via_plain(1);
  send_all(plain, sides.a.listener->local_endpoint(), to, {"plain"}, via_plain);
  BOOST_TEST((via_plain.at(0).status == send_status::delivered));
  BOOST_TEST(sides.a.listener->statistics().connections_accepted == 3u);
}

BOOST_AUTO_TEST_CASE(after_the_duplex_connection_is_lost_frames_go_to_the_dialler_s_listener) {
  two_sides sides;
  auto target = unit_support::make_recording_endpoint();
  const ActorAddress to(target);
  outcomes first(1);
  send_all(sides.a.outgoing, sides.b.listener->local_endpoint(), to, {"a-first"}, first);
  outcomes back(1);
  send_all(sides.b.outgoing, sides.a.listener->local_endpoint(), to, {"b-back"}, back);
  BOOST_TEST((back.at(0).status == send_status::delivered));
  // a's sending channel goes (its side of the connection closes); b's next frame to a dials
  // a's listener.
  sides.a.outgoing.close();
  BOOST_TEST_REQUIRE(transport_support::eventually([&] {
    return sides.b.outgoing.in_flight(sides.a.listener->local_endpoint()) == 0u;
  }));
  outcomes later(1);
  // The first try may meet the closing connection (failed, never sent twice); a retry then
  // goes over the new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    outcomes one(1);
    send_all(sides.b.outgoing, sides.a.listener->local_endpoint(), to, {"b-later"}, one);
    if (one.at(0).status == send_status::delivered) break;
  }
  BOOST_TEST(sides.a.listener->statistics().connections_accepted == 1u);
  BOOST_TEST(sides.a.received.texts().back() == "b-later");
}

BOOST_AUTO_TEST_SUITE_END()
