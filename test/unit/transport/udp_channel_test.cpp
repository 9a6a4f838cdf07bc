// Loopback tests of the UDP channel (src/transport/udp_channel.hpp): ACK/NACK per datagram,
// retransmission of unanswered datagrams, duplicates delivered once (and answered again),
// oversized messages refused at the sender, malformed datagrams dropped without harm, and
// per-sender order kept over reordered and duplicated datagrams (the reorder buffer, its gaps),
// and bursts read two datagrams at a time answered to the right sender.
#include <boost/test/unit_test.hpp>

#include <array>
#include <map>
#include <set>
#include <string>

#include <absl/strings/str_cat.h>
#include <asio.hpp>

#include "channel_test_support.hpp"
#include "transport/frame_decoder.hpp"
#include "transport/udp_channel.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::transport::frame;
using thespian::transport::frame_kind;
using thespian::transport::send_outcome;
using thespian::transport::send_status;
using thespian::transport::udp_channel;
using transport_support::eventually;
using transport_support::inbox;
using transport_support::outcomes;
using transport_support::text_frame;
using udp = asio::ip::udp;

const udp::endpoint loopback{asio::ip::make_address("127.0.0.1"), 0};

thespian::transport::transport_settings quick_settings() {
  thespian::transport::transport_settings s;
  s.retransmit_initial = 10ms;
  s.reconnect_max = 40ms;
  s.log = [](std::string_view) {};
  return s;
}

// Receives one datagram on a raw socket within the deadline and decodes it as a frame (a data
// datagram from a channel carries its window: decode those with `datagram`).
std::optional<frame> receive_frame(udp::socket& s, udp::endpoint& from, bool datagram = false) {
  std::array<char, 70000> buffer;
  std::size_t n = 0;
  const bool got = eventually([&] {
    std::error_code ec;
    n = s.receive_from(asio::buffer(buffer), from, 0, ec);
    return !ec;
  });
  if (!got) return std::nullopt;
  thespian::transport::frame_decoder decoder(70000, datagram);
  decoder.feed(std::span<const char>(buffer.data(), n));
  auto r = decoder.next();
  if (!r.has_frame()) return std::nullopt;
  return std::move(r.value());
}

// A data datagram "m<sequence>" whose sender awaits answers from `oldest` on.
std::string datagram(const ActorAddress& target, std::uint64_t sequence, std::uint64_t oldest) {
  frame f = text_frame(target, absl::StrCat("m", sequence));
  f.sequence = sequence;
  std::string bytes = thespian::transport::encode_frame(f, 1 << 16);
  thespian::transport::set_datagram_window(bytes, static_cast<std::uint32_t>(sequence - oldest));
  return bytes;
}

// Reads answers until every sequence in `wanted` was acknowledged; false at the deadline.
bool acknowledged(udp::socket& s, std::set<std::uint64_t> wanted) {
  udp::endpoint from;
  while (!wanted.empty()) {
    auto answer = receive_frame(s, from);
    if (!answer || answer->kind != frame_kind::ack) return false;
    wanted.erase(answer->sequence);
  }
  return true;
}

// A UDP channel receiving, and a plain socket that sends it hand-made datagrams for `target`.
struct raw_datagrams {
  raw_datagrams() { raw.non_blocking(true); }
  inbox received;
  udp_channel receiver{loopback, received.handler(), quick_settings()};
  asio::io_context io;
  udp::socket raw{io, loopback};
  decltype(unit_support::make_recording_endpoint()) target = unit_support::make_recording_endpoint();
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transport_udp_channel)

BOOST_FIXTURE_TEST_CASE(reordered_and_duplicated_datagrams_are_delivered_once_in_sequence_order, raw_datagrams) {
  for (std::uint64_t sequence : {102, 101, 100, 101, 104, 103, 102}) {
    raw.send_to(asio::buffer(datagram(ActorAddress(target), sequence, 100)), receiver.local_endpoint());
  }
  BOOST_TEST_REQUIRE(acknowledged(raw, {100, 101, 102, 103, 104}));
  BOOST_TEST_REQUIRE(received.wait_for(5));
  BOOST_TEST((received.texts() == std::vector<std::string>{"m100", "m101", "m102", "m103", "m104"}));
  BOOST_TEST_REQUIRE(eventually([&] { return receiver.statistics().datagrams_received == 7u; }));
  const auto stats = receiver.statistics();
  BOOST_TEST(stats.held_for_order == 3u);      // 102, 101 and 104 waited for their turn
  BOOST_TEST(stats.duplicates_dropped == 2u);  // the second 101 and the second 102
  BOOST_TEST(stats.gaps_skipped == 0u);
  BOOST_TEST(received.size() == 5u);
}

BOOST_FIXTURE_TEST_CASE(a_burst_from_two_senders_is_answered_to_each_and_delivered_in_order_per_sender, raw_datagrams) {
  // The channel reads up to two datagrams per wake-up: the second one's sender must be its
  // own, whichever of the pair it came in, and nothing queued behind a pair may wait unread.
  udp::socket other{io, loopback};
  other.non_blocking(true);
  constexpr std::uint64_t count = 40;
  for (std::uint64_t sequence = 1; sequence <= count; ++sequence) {
    raw.send_to(asio::buffer(datagram(ActorAddress(target), sequence, 1)), receiver.local_endpoint());
    other.send_to(asio::buffer(datagram(ActorAddress(target), 1000 + sequence, 1001)),
                  receiver.local_endpoint());
  }
  std::set<std::uint64_t> first, second;
  for (std::uint64_t sequence = 1; sequence <= count; ++sequence) {
    first.insert(sequence);
    second.insert(1000 + sequence);
  }
  BOOST_TEST_REQUIRE(acknowledged(raw, first));
  BOOST_TEST_REQUIRE(acknowledged(other, second));
  BOOST_TEST_REQUIRE(received.wait_for(2 * count));
  std::vector<std::string> from_first, from_second;
  for (const std::string& text : received.texts()) {
    (text.size() >= 5 ? from_second : from_first).push_back(text);
  }
  BOOST_TEST_REQUIRE(from_first.size() == count);
  BOOST_TEST_REQUIRE(from_second.size() == count);
  for (std::uint64_t i = 0; i < count; ++i) {
    BOOST_TEST(from_first[i] == absl::StrCat("m", i + 1));
    BOOST_TEST(from_second[i] == absl::StrCat("m", 1001 + i));
  }
  BOOST_TEST(receiver.statistics().duplicates_dropped == 0u);
}

BOOST_AUTO_TEST_CASE(a_gap_that_never_fills_is_given_up_after_the_transmit_timeout_and_counted) {
  inbox received;
  auto s = quick_settings();
  s.transmit_timeout = 100ms;
  udp_channel receiver(loopback, received.handler(), s);
  asio::io_context io;
  udp::socket raw(io, loopback);
  raw.non_blocking(true);
  auto target = unit_support::make_recording_endpoint();
  raw.send_to(asio::buffer(datagram(ActorAddress(target), 200, 200)), receiver.local_endpoint());
  raw.send_to(asio::buffer(datagram(ActorAddress(target), 202, 201)), receiver.local_endpoint());  // 201 lost
  BOOST_TEST_REQUIRE(acknowledged(raw, {200}));
  BOOST_TEST_REQUIRE(eventually([&] { return receiver.statistics().held_for_order == 1u; }));
  BOOST_TEST(received.size() == 1u);  // 202 waits for 201
  BOOST_TEST_REQUIRE(acknowledged(raw, {202}));  // ...until the transmit timeout gives 201 up
  BOOST_TEST((received.texts() == std::vector<std::string>{"m200", "m202"}));
  BOOST_TEST(receiver.statistics().gaps_skipped == 1u);
  raw.send_to(asio::buffer(datagram(ActorAddress(target), 203, 203)), receiver.local_endpoint());
  BOOST_TEST_REQUIRE(acknowledged(raw, {203}));
  BOOST_TEST(received.texts().back() == "m203");
}

BOOST_FIXTURE_TEST_CASE(a_gap_its_sender_gave_up_is_skipped_at_once, raw_datagrams) {
  // The receiver's own transmit timeout (the default, 5 min) never expires here.
  raw.send_to(asio::buffer(datagram(ActorAddress(target), 300, 300)), receiver.local_endpoint());
  raw.send_to(asio::buffer(datagram(ActorAddress(target), 302, 301)), receiver.local_endpoint());
  // The sender failed 301 and 302 (transmit timeout) and now awaits nothing older than 303.
  raw.send_to(asio::buffer(datagram(ActorAddress(target), 303, 303)), receiver.local_endpoint());
  BOOST_TEST_REQUIRE(acknowledged(raw, {300, 302, 303}));
  BOOST_TEST((received.texts() == std::vector<std::string>{"m300", "m302", "m303"}));
  BOOST_TEST(receiver.statistics().gaps_skipped == 1u);
}

BOOST_AUTO_TEST_CASE(at_most_max_in_flight_datagrams_await_their_answer) {
  asio::io_context io;
  udp::socket silent(io, loopback);
  auto s = quick_settings();
  s.max_in_flight = 2;
  outcomes results(5);  // outlives the channel, which fails what is left when it closes
  udp_channel sender(loopback, [](frame&&) { return true; }, s);
  auto target = unit_support::make_recording_endpoint();
  for (std::size_t i = 0; i < 5; ++i) {
    sender.send(silent.local_endpoint(), text_frame(ActorAddress(target), "m"), results.handler(i));
  }
  BOOST_TEST(sender.in_flight(silent.local_endpoint()) == 2u);
  BOOST_TEST(sender.queue_depth(silent.local_endpoint()) == 5u);
  sender.close();
  BOOST_TEST(results.count_of(send_status::failed) == 5u);
}

// The streams' window (448 by default) does not fit a receive buffer at Debian's default limit
// as datagrams: a datagram channel caps its window at 256.
BOOST_AUTO_TEST_CASE(a_larger_window_setting_is_capped_at_256_datagrams) {
  asio::io_context io;
  udp::socket silent(io, loopback);
  auto s = quick_settings();
  s.max_in_flight = 448;
  constexpr std::size_t n = 300;
  outcomes results(n);
  udp_channel sender(loopback, [](frame&&) { return true; }, s);
  auto target = unit_support::make_recording_endpoint();
  for (std::size_t i = 0; i < n; ++i) {
    sender.send(silent.local_endpoint(), text_frame(ActorAddress(target), "m"), results.handler(i));
  }
  BOOST_TEST(sender.in_flight(silent.local_endpoint()) == 256u);
  BOOST_TEST(sender.queue_depth(silent.local_endpoint()) == n);
  sender.close();
  BOOST_TEST(results.count_of(send_status::failed) == n);
}

BOOST_AUTO_TEST_CASE(datagrams_are_acknowledged_and_a_gone_target_answered_nack) {
  inbox received;
  udp_channel receiver(loopback, received.handler(), quick_settings());
  udp_channel sender(loopback, [](frame&&) { return true; }, quick_settings());
  auto target = unit_support::make_recording_endpoint();
  const std::size_t n = 200;
  outcomes results(n + 1);
  for (std::size_t i = 0; i < n; ++i) {
    sender.send(receiver.local_endpoint(), text_frame(ActorAddress(target), absl::StrCat("m", i)), results.handler(i));
  }
  sender.send(receiver.local_endpoint(), text_frame(ActorAddress(target), "gone"), results.handler(n));
  BOOST_TEST_REQUIRE(results.wait_for(n + 1));
  BOOST_TEST(results.count_of(send_status::delivered) == n);
  BOOST_TEST((results.at(n).status == send_status::no_such_target));
  BOOST_TEST(received.size() == n);
  const auto texts = received.texts();
  for (std::size_t i = 0; i < texts.size(); ++i) BOOST_TEST(texts[i] == absl::StrCat("m", i));
  BOOST_TEST(sender.queue_depth(receiver.local_endpoint()) == 0u);
}

BOOST_FIXTURE_TEST_CASE(each_answer_is_a_well_formed_ack_or_nack_naming_its_datagram, raw_datagrams) {
  // Answers are a control frame encoded once with each sequence stamped in: a fresh decoder
  // must accept every one, with the kind and sequence of the datagram it answers.
  const std::array<std::pair<std::uint64_t, const char*>, 4> sent{
      {{5, "kept"}, {6, "gone"}, {7, "kept"}, {0x0102030405060708ULL, "gone"}}};
  for (const auto& [sequence, text] : sent) {
    frame f = text_frame(ActorAddress(target), text);
    f.sequence = sequence;
    const std::string bytes = thespian::transport::encode_frame(f, 1 << 16);
    raw.send_to(asio::buffer(bytes), receiver.local_endpoint());
    udp::endpoint from;
    auto answer = receive_frame(raw, from);
    BOOST_TEST_REQUIRE(answer.has_value());
    BOOST_TEST(answer->sequence == sequence);
    const bool kept = std::string(text) == "kept";
    BOOST_TEST((answer->kind == (kept ? frame_kind::ack : frame_kind::nack)));
    BOOST_TEST(!answer->target);
    BOOST_TEST(answer->message.empty());
  }
  BOOST_TEST(received.size() == 2u);
}

BOOST_AUTO_TEST_CASE(consecutive_datagrams_of_different_sizes_each_arrive_intact) {
  // The sender copies each frame into the reused string of its last batch: a short frame
  // after a long one must not carry the long one's tail, nor a long one be cut short.
  const std::array<std::string, 4> texts{std::string(3000, 'L'), "s", std::string(100, 'm'),
                                         std::string(5000, 'x')};
  outcomes results(texts.size());  // outlives the channel, which fails what is left at close
  asio::io_context io;
  udp::socket peer(io, loopback);
  peer.non_blocking(true);
  udp_channel sender(loopback, [](frame&&) { return true; }, quick_settings());
  auto target = unit_support::make_recording_endpoint();
  std::map<std::uint64_t, std::string> arrived;  // by sequence; retransmissions may repeat
  for (std::size_t i = 0; i < texts.size(); ++i) {
    sender.send(peer.local_endpoint(), text_frame(ActorAddress(target), texts[i]),
                results.handler(i));
    udp::endpoint from;
    while (arrived.size() < i + 1) {
      auto f = receive_frame(peer, from, /*datagram=*/true);
      BOOST_TEST_REQUIRE(f.has_value());
      arrived.emplace(f->sequence, f->message.as<std::string>());
    }
  }
  std::size_t i = 0;
  for (const auto& [sequence, text] : arrived) BOOST_TEST(text == texts[i++]);
  sender.close();
}

BOOST_AUTO_TEST_CASE(an_unanswered_datagram_is_sent_again_until_acknowledged) {
  asio::io_context io;
  udp::socket peer(io, loopback);
  peer.non_blocking(true);
  udp_channel sender(loopback, [](frame&&) { return true; }, quick_settings());
  auto target = unit_support::make_recording_endpoint();
  outcomes results(1);
  sender.send(peer.local_endpoint(), text_frame(ActorAddress(target), "again"), results.handler(0));
  udp::endpoint from;
  auto first = receive_frame(peer, from);   // ignored, as if lost
  BOOST_TEST_REQUIRE(first.has_value());
  auto second = receive_frame(peer, from);  // the retransmission
  BOOST_TEST_REQUIRE(second.has_value());
  BOOST_TEST(second->sequence == first->sequence);
  BOOST_TEST(second->message.as<std::string>() == "again");
  BOOST_TEST(results.count() == 0u);
  const std::string ack = thespian::transport::encode_frame(frame{frame_kind::ack, first->sequence, {}, {}, {}}, 1024);
  peer.send_to(asio::buffer(ack), from);
  BOOST_TEST_REQUIRE(results.wait_for(1));
  BOOST_TEST((results.at(0).status == send_status::delivered));
  BOOST_TEST(sender.statistics().retransmits >= 1u);
}

BOOST_FIXTURE_TEST_CASE(a_duplicate_datagram_is_delivered_once_and_answered_again, raw_datagrams) {
  frame f = text_frame(ActorAddress(target), "once");
  f.sequence = 77;
  const std::string bytes = thespian::transport::encode_frame(f, 1 << 16);
  raw.send_to(asio::buffer(bytes), receiver.local_endpoint());
  raw.send_to(asio::buffer(bytes), receiver.local_endpoint());
  udp::endpoint from;
  for (int i = 0; i < 2; ++i) {
    auto answer = receive_frame(raw, from);
    BOOST_TEST_REQUIRE(answer.has_value());
    BOOST_TEST((answer->kind == frame_kind::ack));
    BOOST_TEST(answer->sequence == 77u);
  }
  BOOST_TEST(received.size() == 1u);
  BOOST_TEST(receiver.statistics().duplicates_dropped == 1u);
}

BOOST_AUTO_TEST_CASE(a_message_above_the_datagram_limit_is_refused_at_the_sender) {
  inbox received;
  udp_channel receiver(loopback, received.handler(), quick_settings());
  udp_channel sender(loopback, [](frame&&) { return true; }, quick_settings());
  auto target = unit_support::make_recording_endpoint();
  try {
    sender.send(receiver.local_endpoint(), text_frame(ActorAddress(target), std::string(70000, 'x')),
                [](send_outcome) { BOOST_FAIL("a refused message got an outcome"); });
    BOOST_FAIL("an oversized datagram was accepted");
  } catch (const thespian::transport::frame_too_large& e) {
    BOOST_TEST(e.max_size() == thespian::transport::max_udp_frame_size);
    BOOST_TEST(e.frame_size() > 70000u);
  }
  BOOST_TEST(sender.queue_depth(receiver.local_endpoint()) == 0u);
  // The largest message that fits still goes through.
  outcomes results(1);
  sender.send(receiver.local_endpoint(), text_frame(ActorAddress(target), std::string(60000, 'y')), results.handler(0));
  BOOST_TEST_REQUIRE(results.wait_for(1));
  BOOST_TEST((results.at(0).status == send_status::delivered));
}

BOOST_AUTO_TEST_CASE(a_malformed_datagram_is_dropped_and_the_channel_keeps_serving) {
  inbox received;
  udp_channel receiver(loopback, received.handler(), quick_settings());
  asio::io_context io;
  udp::socket raw(io, loopback);
  raw.send_to(asio::buffer(std::string("THSP but not really a frame")), receiver.local_endpoint());
  BOOST_TEST_REQUIRE(eventually([&] { return receiver.statistics().malformed_dropped == 1u; }));
  udp_channel sender(loopback, [](frame&&) { return true; }, quick_settings());
  auto target = unit_support::make_recording_endpoint();
  outcomes results(1);
  sender.send(receiver.local_endpoint(), text_frame(ActorAddress(target), "fine"), results.handler(0));
  BOOST_TEST_REQUIRE(results.wait_for(1));
  BOOST_TEST((results.at(0).status == send_status::delivered));
}

// The channel decodes every datagram with one decoder: what a refused datagram left in it must
// not reach the next one.
BOOST_FIXTURE_TEST_CASE(a_datagram_with_part_of_a_frame_or_bytes_after_it_is_dropped_and_the_next_delivered, raw_datagrams) {
  const std::string first = datagram(ActorAddress(target), 1, 1);
  const std::string second = datagram(ActorAddress(target), 2, 1);
  raw.send_to(asio::buffer(first.data(), first.size() / 2), receiver.local_endpoint());
  BOOST_TEST_REQUIRE(eventually([&] { return receiver.statistics().malformed_dropped == 1u; }));
  raw.send_to(asio::buffer(first), receiver.local_endpoint());
  BOOST_TEST(acknowledged(raw, {1}));
  raw.send_to(asio::buffer(second + "x"), receiver.local_endpoint());
  BOOST_TEST_REQUIRE(eventually([&] { return receiver.statistics().malformed_dropped == 2u; }));
  raw.send_to(asio::buffer(second), receiver.local_endpoint());
  BOOST_TEST(acknowledged(raw, {2}));
  BOOST_TEST(received.size() == 2u);
  BOOST_TEST(receiver.statistics().malformed_dropped == 2u);
}

BOOST_AUTO_TEST_CASE(an_unanswered_datagram_fails_at_the_transmit_timeout) {
  asio::io_context io;
  udp::socket silent(io, loopback);
  auto s = quick_settings();
  s.transmit_timeout = 100ms;
  udp_channel sender(loopback, [](frame&&) { return true; }, s);
  auto target = unit_support::make_recording_endpoint();
  outcomes results(1);
  sender.send(silent.local_endpoint(), text_frame(ActorAddress(target), "lost"), results.handler(0));
  BOOST_TEST_REQUIRE(results.wait_for(1));
  BOOST_TEST((results.at(0).status == send_status::failed));
  BOOST_TEST(unit_support::contains(results.at(0).reason, "transmit timeout"));
}

BOOST_AUTO_TEST_SUITE_END()
