// Unit tests of frame encoding (src/transport/frame.hpp): every system message and strings from
// 0 B to 50 MiB survive encode_frame + frame_decoder unchanged, the header says what frame.hpp
// documents, and frames above the limit or with unregistered messages are refused at the sender.
// Each thread reuses one cereal archive per side (archive_reuse.hpp): messages that leave state
// in an archive (shared pointers, versioned classes) still encode and decode as by a fresh one.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include <cereal/types/memory.hpp>
#include <cereal/types/string.hpp>

#include "../support.hpp"
#include "thespian/system_messages.hpp"
#include "transport/frame.hpp"
#include "transport/frame_decoder.hpp"

namespace frame_test_types {

// A class with a cereal version: a fresh archive writes (and reads) the version once per type.
struct versioned_part {
  int value = 0;
  std::uint32_t version_read = 0;  // not compared: what the last load found
  template <class Archive>
  void save(Archive& ar, std::uint32_t) const { ar(value); }
  template <class Archive>
  void load(Archive& ar, std::uint32_t version) {
    version_read = version;
    ar(value);
  }
};

// Leaves state in both archives: shared-pointer ids (second aliases first) and a class version.
struct shared_and_versioned {
  std::shared_ptr<std::string> first;
  std::shared_ptr<std::string> second;
  versioned_part part;
  template <class Archive>
  void serialize(Archive& ar) { ar(first, second, part); }
  friend bool operator==(const shared_and_versioned& a, const shared_and_versioned& b) {
    return *a.first == *b.first && *a.second == *b.second &&
           (a.first == a.second) == (b.first == b.second) && a.part.value == b.part.value;
  }
};

}  // namespace frame_test_types

CEREAL_CLASS_VERSION(frame_test_types::versioned_part, 3);
THESPIAN_MESSAGE(frame_test_types::shared_and_versioned);

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using thespian::transport::decode_result;
using thespian::transport::encode_frame;
using thespian::transport::frame;
using thespian::transport::frame_decoder;
using thespian::transport::frame_kind;

struct not_registered {
  int x = 0;
  friend bool operator==(const not_registered&, const not_registered&) = default;
};

// Encodes f, decodes it from one feed, and checks that nothing else comes out.
frame round_trip(const frame& f, std::size_t max = thespian::transport::default_max_stream_frame_size) {
  const std::string bytes = encode_frame(f, max);
  frame_decoder decoder(max);
  decoder.feed(bytes);
  decode_result r = decoder.next();
  BOOST_TEST_REQUIRE(r.has_frame(), (r.is_error() ? r.error().detail : std::string("need more")));
  BOOST_TEST(decoder.next().needs_more());
  BOOST_TEST(decoder.counters().frames == 1u);
  BOOST_TEST(decoder.counters().frame_bytes == bytes.size());
  return std::move(r.value());
}

frame data_frame(Message m) {
  auto target = unit_support::make_recording_endpoint();
  auto sender = unit_support::make_recording_endpoint();
  return frame{frame_kind::data, 42, ActorAddress(target), ActorAddress(sender), std::move(m)};
}

void check_round_trip(Message m) {
  // The endpoints stay alive while the decoded addresses are compared.
  auto target = unit_support::make_recording_endpoint();
  auto sender = unit_support::make_recording_endpoint();
  const frame f{frame_kind::data, 7, ActorAddress(target), ActorAddress(sender), std::move(m)};
  const frame back = round_trip(f);
  BOOST_TEST((back.kind == f.kind));
  BOOST_TEST(back.sequence == f.sequence);
  BOOST_TEST((back.target == f.target));
  BOOST_TEST((back.sender == f.sender));
  BOOST_TEST(back.message.type_name() == f.message.type_name());
  BOOST_TEST((back.message == f.message));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(transport_frame)

BOOST_AUTO_TEST_CASE(every_system_message_survives_a_frame_round_trip) {
  auto a = unit_support::make_recording_endpoint();
  auto b = unit_support::make_recording_endpoint();
  const ActorAddress one(a), two(b);
  check_round_trip(thespian::ActorExitRequest{false});
  check_round_trip(thespian::ChildActorExited{one});
  check_round_trip(thespian::PoisonMessage{std::string("bad"), "std::runtime_error: boom"});
  check_round_trip(thespian::DeadEnvelope{one, thespian::WakeupMessage{3ms, std::string("w")}});
  check_round_trip(thespian::WakeupMessage{5ms, std::string("p")});
  check_round_trip(thespian::WatchMessage{{3, 4, 5}});
  check_round_trip(thespian::ActorSystemConventionUpdate{"h:1", {{"GPU", true}, {"n", std::int64_t{3}}}, true});
  check_round_trip(thespian::ValidateSource{"hash", std::string("\0zip\xff", 5), "info"});
  check_round_trip(thespian::ValidatedSource{"hash", std::string("data"), "info"});
  check_round_trip(thespian::ValidatedSource{"hash", std::nullopt, "info"});
  check_round_trip(thespian::LoadedSource{"hash", "info"});
  check_round_trip(thespian::UnloadedSource{"hash", "info"});
  check_round_trip(thespian::StatusRequest{});
  check_round_trip(thespian::ActorStatus{one, "worker", two, {one, two}, 1, 2, 3, 4});
  thespian::SystemStatus s;
  s.admin_address = "127.0.0.1:1900";
  s.base = "multiprocTCPBase";
  s.capabilities = {{"Admin Port", std::int64_t{1900}}, {"x", 1.5}, {"s", std::string("v")}};
  s.convention_members = {"a", "b"};
  s.global_names = {{"g", one}};
  s.dead_letter_handler = two;
  s.loaded_sources = {"h1"};
  s.actor_count = 9;
  check_round_trip(s);
}

BOOST_AUTO_TEST_CASE(system_message_fields_outside_equality_also_survive) {
  const frame back = round_trip(data_frame(thespian::ValidateSource{"h", "payload", "about"}));
  const auto& v = back.message.as<thespian::ValidateSource>();
  BOOST_TEST(v.data == "payload");
  BOOST_TEST(v.source_info == "about");
  const frame exit = round_trip(data_frame(thespian::ActorExitRequest{false}));
  BOOST_TEST(exit.message.as<thespian::ActorExitRequest>().recursive == false);
}

BOOST_AUTO_TEST_CASE(strings_of_0_1_1k_and_1m_bytes_survive_a_frame_round_trip) {
  for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1} << 10, std::size_t{1} << 20}) {
    std::string text(size, '\0');
    for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>(i * 131 + 7);
    check_round_trip(text);
  }
}

BOOST_AUTO_TEST_CASE(a_50_mib_string_is_reassembled_from_64_kib_chunks) {
  std::string text(std::size_t{50} << 20, 'x');
  for (std::size_t i = 0; i < text.size(); i += 4093) text[i] = static_cast<char>(i);
  auto target = unit_support::make_recording_endpoint();
  const frame f{frame_kind::data, 1, ActorAddress(target), ActorAddress(), Message(text)};
  const std::string bytes = encode_frame(f, thespian::transport::default_max_stream_frame_size);
  frame_decoder decoder;
  const std::size_t chunk = std::size_t{64} << 10;
  std::size_t max_capacity = 0;
  std::optional<frame> got;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    decoder.feed(std::span<const char>(bytes).subspan(at, std::min(chunk, bytes.size() - at)));
    max_capacity = std::max(max_capacity, decoder.buffer_capacity());
    decode_result r = decoder.next();
    BOOST_TEST_REQUIRE(!r.is_error());
    if (r.has_frame()) {
      BOOST_TEST_REQUIRE(at + chunk >= bytes.size());
      got = std::move(r.value());
    }
  }
  BOOST_TEST_REQUIRE(got.has_value());
  BOOST_TEST((got->target == f.target));
  BOOST_TEST(!got->sender);
  BOOST_TEST((got->message.as<std::string>() == text));
  BOOST_TEST(max_capacity <= 2 * bytes.size());  // grown as bytes arrived, by doubling at most
  BOOST_TEST(decoder.buffer_capacity() < (std::size_t{2} << 20));  // given back afterwards
}

BOOST_AUTO_TEST_CASE(ack_and_nack_frames_carry_their_kind_and_sequence) {
  const frame ack = round_trip(frame{frame_kind::ack, 0xfedcba9876543210ULL, {}, {}, {}});
  BOOST_TEST((ack.kind == frame_kind::ack));
  BOOST_TEST(ack.sequence == 0xfedcba9876543210ULL);
  BOOST_TEST(!ack.target);
  BOOST_TEST(ack.message.empty());
  const frame nack = round_trip(frame{frame_kind::nack, 3, {}, {}, {}});
  BOOST_TEST((nack.kind == frame_kind::nack));
}

BOOST_AUTO_TEST_CASE(the_header_holds_magic_version_kind_length_and_sequence_little_endian) {
  const std::string bytes = encode_frame(frame{frame_kind::nack, 0x0102030405060708ULL, {}, {}, std::string("abc")}, 1024);
  BOOST_TEST_REQUIRE(bytes.size() > thespian::transport::frame_header_size);
  BOOST_TEST(bytes.substr(0, 4) == "THSP");
  BOOST_TEST(static_cast<int>(bytes[4]) == 2);
  BOOST_TEST(static_cast<int>(bytes[5]) == 3);
  BOOST_TEST(bytes.substr(6, 2) == std::string(2, '\0'));
  std::uint32_t length = 0;
  for (int i = 3; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[8 + i]);
  BOOST_TEST(length == bytes.size() - thespian::transport::frame_header_size);
  BOOST_TEST(bytes.substr(12, 4) == std::string(4, '\0'));
  BOOST_TEST(bytes.substr(16, 8) == std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
}

BOOST_AUTO_TEST_CASE(encode_refuses_a_frame_above_the_limit_naming_size_and_limit) {
  const frame f = data_frame(std::string(2000, 'a'));
  const std::size_t size = encode_frame(f, 1 << 20).size();
  BOOST_TEST(encode_frame(f, size).size() == size);  // exactly at the limit is allowed
  try {
    encode_frame(f, size - 1);
    BOOST_FAIL("encode_frame accepted a frame above its limit");
  } catch (const thespian::transport::frame_too_large& e) {
    BOOST_TEST(e.frame_size() == size);
    BOOST_TEST(e.max_size() == size - 1);
    const std::string what = e.what();
    BOOST_TEST(unit_support::contains(what, std::to_string(size)));
    BOOST_TEST(unit_support::contains(what, std::to_string(size - 1)));
  }
  BOOST_CHECK_THROW(encode_frame(f, 1024), thespian::ActorSystemException);
  BOOST_CHECK_THROW(encode_frame(frame{}, 10), thespian::transport::frame_too_large);
}

BOOST_AUTO_TEST_CASE(encode_refuses_an_unregistered_message_type) {
  BOOST_CHECK_THROW(encode_frame(data_frame(not_registered{1}), 1 << 20),
                    thespian::UnserializableMessage);
  BOOST_CHECK_THROW(
      encode_frame(data_frame(thespian::PoisonMessage{not_registered{1}, "nested"}), 1 << 20),
      thespian::UnserializableMessage);
}

BOOST_AUTO_TEST_CASE(messages_leaving_state_in_the_archives_encode_and_decode_as_if_by_fresh_archives) {
  using frame_test_types::shared_and_versioned;
  auto text = std::make_shared<std::string>("shared");
  auto message = [&](int n) {
    return Message(shared_and_versioned{text, text, frame_test_types::versioned_part{n, 0}});
  };
  auto target = unit_support::make_recording_endpoint();
  auto sender = unit_support::make_recording_endpoint();
  auto frame_of = [&](Message m) {
    return frame{frame_kind::data, 9, ActorAddress(target), ActorAddress(sender), std::move(m)};
  };
  // Each frame is encoded on a new thread (whose archives are new) and on this one (whose
  // archive served the frames before): the bytes are the same. This thread then decodes the
  // new threads' frames one after the other, between frames of a message that leaves no state.
  std::string stream;
  for (int n = 1; n <= 3; ++n) {
    std::string fresh;
    std::thread([&] { fresh = encode_frame(frame_of(message(n)), 1 << 20); }).join();
    BOOST_TEST(encode_frame(frame_of(message(n)), 1 << 20) == fresh);
    stream += fresh;
    stream += encode_frame(frame_of(Message(std::string("plain"))), 1 << 20);
  }
  frame_decoder decoder;
  decoder.feed(stream);
  for (int n = 1; n <= 3; ++n) {
    decode_result r = decoder.next();
    BOOST_TEST_REQUIRE(r.has_frame(), (r.is_error() ? r.error().detail : std::string("need more")));
    const auto& back = r.value().message.as<shared_and_versioned>();
    BOOST_TEST((back == message(n).as<shared_and_versioned>()));
    BOOST_TEST(back.first.get() == back.second.get());  // one object, as sent
    BOOST_TEST(back.part.version_read == 3u);           // read from each frame anew
    decode_result plain = decoder.next();
    BOOST_TEST_REQUIRE(plain.has_frame());
    BOOST_TEST(plain.value().message.as<std::string>() == "plain");
  }
  BOOST_TEST(decoder.next().needs_more());
}

BOOST_AUTO_TEST_CASE(datagram_and_stream_limits_have_their_documented_defaults) {
  BOOST_TEST(thespian::transport::default_max_stream_frame_size == 64u * 1024 * 1024);
  BOOST_TEST(thespian::transport::default_max_datagram_frame_size == 64u * 1024);
  BOOST_TEST(frame_decoder().max_frame_size() == thespian::transport::default_max_stream_frame_size);
}

BOOST_AUTO_TEST_SUITE_END()
