// Unit tests of the incremental frame decoder (src/transport/frame_decoder.hpp): frames split at
// every byte, fed byte by byte or many per feed, and every malformed-input rule, each of which
// is an error value that poisons the decoder without a large allocation.
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "../support.hpp"
#include "thespian/system_messages.hpp"
#include "transport/frame.hpp"
#include "transport/frame_decoder.hpp"

namespace {

using thespian::ActorAddress;
using thespian::Message;
using thespian::transport::decode_result;
using thespian::transport::encode_frame;
using thespian::transport::frame;
using thespian::transport::frame_decoder;
using thespian::transport::frame_error;
using thespian::transport::frame_header_size;
using thespian::transport::frame_kind;

void put_le(std::string& out, std::size_t at, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out[at + i] = static_cast<char>(value >> (8 * i));
}

// A header for `payload_size` bytes, with the fields tests then spoil one at a time.
std::string header(std::uint64_t payload_size, frame_kind kind = frame_kind::data) {
  std::string h(frame_header_size, '\0');
  std::memcpy(h.data(), "THSP", 4);
  h[4] = static_cast<char>(thespian::transport::frame_protocol_version);
  h[5] = static_cast<char>(kind);
  put_le(h, 8, payload_size, 4);
  put_le(h, 16, 99, 8);
  return h;
}

std::string with_header(const std::string& payload) { return header(payload.size()) + payload; }

// The error next() reports for `bytes` fed at once, with poisoning and counting checked.
thespian::transport::decode_error error_for(const std::string& bytes, std::size_t max = 1 << 20) {
  frame_decoder decoder(max);
  decoder.feed(bytes);
  decode_result r = decoder.next();
  BOOST_TEST_REQUIRE(r.is_error());
  BOOST_TEST(decoder.poisoned());
  BOOST_TEST(decoder.counters().errors_of(r.error().kind) == 1u);
  BOOST_TEST(decoder.counters().total_errors() == 1u);
  BOOST_TEST(decoder.counters().frames == 0u);
  BOOST_TEST(!r.error().detail.empty());
  return r.error();
}

struct sample {
  unit_support::recording_ref a = unit_support::make_recording_endpoint();
  unit_support::recording_ref b = unit_support::make_recording_endpoint();
  frame f{frame_kind::data, 5, ActorAddress(a), ActorAddress(b),
          thespian::DeadEnvelope{ActorAddress(a), std::string("hello")}};
  std::string bytes = encode_frame(f, 1 << 20);
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transport_frame_decoder)

BOOST_AUTO_TEST_CASE(a_frame_split_at_every_byte_across_two_feeds_decodes_once) {
  const sample s;
  for (std::size_t split = 0; split <= s.bytes.size(); ++split) {
    frame_decoder decoder(1 << 20);
    decoder.feed(std::span<const char>(s.bytes).first(split));
    if (split < s.bytes.size()) {
      BOOST_TEST_REQUIRE(decoder.next().needs_more(), "split at " << split);
    }
    decoder.feed(std::span<const char>(s.bytes).subspan(split));
    decode_result r = decoder.next();
    BOOST_TEST_REQUIRE(r.has_frame(), "split at " << split);
    BOOST_TEST((r.value() == s.f));
    BOOST_TEST(decoder.next().needs_more());
    BOOST_TEST(!decoder.finish().has_value());
  }
}

BOOST_AUTO_TEST_CASE(a_frame_fed_byte_by_byte_decodes_on_its_last_byte) {
  const sample s;
  frame_decoder decoder(1 << 20);
  for (std::size_t i = 0; i < s.bytes.size(); ++i) {
    decoder.feed(std::span<const char>(s.bytes).subspan(i, 1));
    decode_result r = decoder.next();
    if (i + 1 < s.bytes.size()) {
      BOOST_TEST_REQUIRE(r.needs_more(), "byte " << i);
    } else {
      BOOST_TEST_REQUIRE(r.has_frame());
      BOOST_TEST((r.value() == s.f));
    }
  }
  BOOST_TEST(decoder.counters().bytes_fed == s.bytes.size());
  BOOST_TEST(decoder.buffered_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(several_frames_in_one_feed_come_out_in_order) {
  const sample s;
  const frame ack{frame_kind::ack, 5, {}, {}, {}};
  const frame text{frame_kind::data, 6, ActorAddress(s.a), {}, std::string("second")};
  const std::string all = s.bytes + encode_frame(ack, 1 << 20) + encode_frame(text, 1 << 20) +
                          s.bytes.substr(0, 10);
  frame_decoder decoder(1 << 20);
  decoder.feed(all);
  decode_result r1 = decoder.next();
  decode_result r2 = decoder.next();
  decode_result r3 = decoder.next();
  BOOST_TEST_REQUIRE(r1.has_frame());
  BOOST_TEST_REQUIRE(r2.has_frame());
  BOOST_TEST_REQUIRE(r3.has_frame());
  BOOST_TEST((r1.value() == s.f));
  BOOST_TEST((r2.value() == ack));
  BOOST_TEST((r3.value() == text));
  BOOST_TEST(decoder.next().needs_more());
  BOOST_TEST(decoder.buffered_bytes() == 10u);
  BOOST_TEST(decoder.counters().frames == 3u);
  BOOST_TEST(decoder.counters().frame_bytes == all.size() - 10);
  decoder.feed(std::span<const char>(s.bytes).subspan(10));
  decode_result r4 = decoder.next();
  BOOST_TEST_REQUIRE(r4.has_frame());
  BOOST_TEST((r4.value() == s.f));
}

BOOST_AUTO_TEST_CASE(bad_magic_is_an_error_from_the_first_wrong_byte) {
  const auto e = error_for("GET / HTTP/1.1\r\n");
  BOOST_TEST((e.kind == frame_error::bad_magic));
  BOOST_TEST(unit_support::contains(e.detail, "GET "));
  BOOST_TEST((error_for("TX").kind == frame_error::bad_magic));
}

BOOST_AUTO_TEST_CASE(an_unknown_protocol_version_is_an_error) {
  std::string bytes = sample().bytes;
  bytes[4] = 1;  // the version before the datagram window
  const auto e = error_for(bytes);
  BOOST_TEST((e.kind == frame_error::bad_version));
  BOOST_TEST(unit_support::contains(e.detail, "version 1"));
}

BOOST_AUTO_TEST_CASE(an_unknown_kind_or_nonzero_reserved_field_is_an_error) {
  std::string bytes = sample().bytes;
  bytes[5] = 9;
  BOOST_TEST((error_for(bytes).kind == frame_error::bad_kind));
  bytes = sample().bytes;
  bytes[7] = 1;
  BOOST_TEST((error_for(bytes).kind == frame_error::bad_reserved));
  bytes = sample().bytes;
  bytes[13] = 1;
  BOOST_TEST((error_for(bytes).kind == frame_error::bad_reserved));
}

BOOST_AUTO_TEST_CASE(only_a_datagram_decoder_accepts_a_datagram_window) {
  std::string bytes = sample().bytes;
  thespian::transport::set_datagram_window(bytes, 0x01020304u);
  BOOST_TEST(thespian::transport::datagram_window(bytes) == 0x01020304u);
  BOOST_TEST((error_for(bytes).kind == frame_error::bad_reserved));
  frame_decoder datagrams(1 << 16, /*datagram=*/true);
  datagrams.feed(bytes);
  BOOST_TEST(datagrams.next().has_frame());
}

BOOST_AUTO_TEST_CASE(a_length_above_the_limit_is_refused_from_the_header_without_allocating_it) {
  frame_decoder decoder(4096);
  const std::string h = header(0xffffffffu);
  decoder.feed(std::span<const char>(h).first(12));  // up to and including the length field
  decode_result r = decoder.next();
  BOOST_TEST_REQUIRE(r.is_error());
  BOOST_TEST((r.error().kind == frame_error::too_large));
  BOOST_TEST(unit_support::contains(r.error().detail, "4294967295"));
  BOOST_TEST(unit_support::contains(r.error().detail, "4096"));
  BOOST_TEST(decoder.buffer_capacity() <= 64u);
  // Also when the announced frame would exceed the limit only with its header.
  const auto e = error_for(header(4096 - frame_header_size + 1), 4096);
  BOOST_TEST((e.kind == frame_error::too_large));
}

BOOST_AUTO_TEST_CASE(a_frame_exactly_at_the_limit_is_accepted) {
  const sample s;
  frame_decoder decoder(s.bytes.size());
  decoder.feed(s.bytes);
  BOOST_TEST(decoder.next().has_frame());
}

BOOST_AUTO_TEST_CASE(a_stream_that_ends_inside_a_frame_is_truncated) {
  const sample s;
  for (std::size_t cut : {std::size_t{3}, frame_header_size, s.bytes.size() - 1}) {
    frame_decoder decoder(1 << 20);
    decoder.feed(std::span<const char>(s.bytes).first(cut));
    BOOST_TEST(decoder.next().needs_more());
    const auto e = decoder.finish();
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST((e->kind == frame_error::truncated));
    BOOST_TEST(unit_support::contains(e->detail, std::to_string(cut)));
    BOOST_TEST(decoder.poisoned());
    BOOST_TEST(decoder.counters().errors_of(frame_error::truncated) == 1u);
  }
}

BOOST_AUTO_TEST_CASE(a_payload_that_cereal_cannot_read_is_malformed) {
  // Too short: the string announces 5 bytes and has 2.
  std::string short_string = unit_support::encode(false, false) + std::string("\x05\0\0\0\0\0\0\0ab", 10);
  BOOST_TEST((error_for(with_header(short_string)).kind == frame_error::malformed_payload));
  // An impossible string size, refused without allocating it.
  std::string huge = unit_support::encode(false, false) + std::string(7, '\0') + "\xf0";
  BOOST_TEST((error_for(with_header(huge)).kind == frame_error::malformed_payload));
  // Not a cereal archive at all (no endianness byte), and an empty payload.
  BOOST_TEST((error_for(with_header("\x07garbage")).kind == frame_error::malformed_payload));
  BOOST_TEST((error_for(header(0)).kind == frame_error::malformed_payload));
}

// The envelope (addresses, wire name) is read by hand (frame_decoder.cpp's envelope_reader):
// it must refuse what ActorAddress::load and Message::load refuse, and accept what cereal
// writes, whichever byte order the archive chose.
BOOST_AUTO_TEST_CASE(an_address_presence_byte_other_than_0_or_1_is_malformed) {
  for (int which = 0; which < 2; ++which) {
    std::string payload = unit_support::encode(ActorAddress(), ActorAddress(), std::string("std::string"),
                                               std::string("x"));
    payload[1 + which] = '\x02';  // the target's, then the sender's presence byte
    const auto e = error_for(with_header(payload));
    BOOST_TEST((e.kind == frame_error::malformed_payload));
    BOOST_TEST(unit_support::contains(e.detail, "presence byte 2"), e.detail);
  }
}

BOOST_AUTO_TEST_CASE(a_payload_cut_inside_an_address_or_the_wire_name_is_malformed) {
  const sample s;
  const std::string payload = s.bytes.substr(frame_header_size);
  // Inside the target's ids, inside the sender's, inside the wire name's length and its text.
  for (std::size_t cut : {5u, 25u, 38u, 44u}) {
    BOOST_TEST_CONTEXT("payload cut to " << cut << " bytes") {
      BOOST_TEST((error_for(with_header(payload.substr(0, cut))).kind == frame_error::malformed_payload));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_big_endian_payload_decodes_like_a_little_endian_one) {
  auto target = unit_support::make_recording_endpoint();
  std::stringstream buffer;
  {
    cereal::PortableBinaryOutputArchive out(buffer, cereal::PortableBinaryOutputArchive::Options::BigEndian());
    out(ActorAddress(target), ActorAddress(), Message(std::string("big end")));
  }
  const std::string payload = buffer.str();
  BOOST_REQUIRE(payload[0] == '\0');  // the archive says: big-endian
  frame_decoder decoder;
  decoder.feed(with_header(payload));
  decode_result r = decoder.next();
  BOOST_TEST_REQUIRE(r.has_frame(), (r.is_error() ? r.error().detail : std::string("no frame")));
  BOOST_TEST(r.value().target.endpoint() == target.get());
  BOOST_TEST(!r.value().sender);
  BOOST_TEST(r.value().message.as<std::string>() == "big end");
}

BOOST_AUTO_TEST_CASE(an_unknown_message_wire_name_is_an_error_naming_it) {
  const std::string payload =
      unit_support::encode(ActorAddress(), ActorAddress(), std::string("no::such::Message"), 1);
  const auto e = error_for(with_header(payload));
  BOOST_TEST((e.kind == frame_error::unknown_message));
  BOOST_TEST(unit_support::contains(e.detail, "no::such::Message"));
}

BOOST_AUTO_TEST_CASE(bytes_after_the_message_inside_a_frame_are_an_error) {
  const std::string payload = sample().bytes.substr(frame_header_size) + "xyz";
  const auto e = error_for(with_header(payload));
  BOOST_TEST((e.kind == frame_error::trailing_bytes));
  BOOST_TEST(unit_support::contains(e.detail, "3"));
}

BOOST_AUTO_TEST_CASE(a_poisoned_decoder_repeats_its_error_and_ignores_new_bytes) {
  const sample s;
  frame_decoder decoder(1 << 20);
  decoder.feed(std::string("XXXX"));
  decode_result first = decoder.next();
  BOOST_TEST_REQUIRE(first.is_error());
  decoder.feed(s.bytes);
  decode_result again = decoder.next();
  BOOST_TEST_REQUIRE(again.is_error());
  BOOST_TEST((again.error().kind == frame_error::bad_magic));
  BOOST_TEST(again.error().detail == first.error().detail);
  BOOST_TEST(decoder.buffered_bytes() == 0u);
  BOOST_TEST(decoder.counters().total_errors() == 1u);
  BOOST_TEST(decoder.finish().has_value());
}

BOOST_AUTO_TEST_CASE(counters_of_many_decoders_add_up) {
  thespian::transport::decoder_counters total;
  const sample s;
  frame_decoder good(1 << 20);
  good.feed(s.bytes);
  BOOST_TEST(good.next().has_frame());
  frame_decoder bad(1 << 20);
  bad.feed(std::string("nope"));
  BOOST_TEST(bad.next().is_error());
  total += good.counters();
  total += bad.counters();
  BOOST_TEST(total.frames == 1u);
  BOOST_TEST(total.frame_bytes == s.bytes.size());
  BOOST_TEST(total.bytes_fed == s.bytes.size() + 4);
  BOOST_TEST(total.errors_of(frame_error::bad_magic) == 1u);
  BOOST_TEST(thespian::transport::to_string(frame_error::too_large) == "frame too large");
}

BOOST_AUTO_TEST_SUITE_END()
