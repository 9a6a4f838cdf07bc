// Unit tests of the hardened cereal loads (include/thespian/detail/bounded_load.hpp) as the frame
// decoder uses them: every container round-trips unchanged, and an element count or a bool byte
// that the frame cannot hold is refused by the count check, before anything is allocated.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <deque>
#include <forward_list>
#include <limits>
#include <list>
#include <string>
#include <unordered_set>
#include <vector>

#include <cereal/types/deque.hpp>
#include <cereal/types/forward_list.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/unordered_set.hpp>

#include "../support.hpp"
#include "core/wire_budget.hpp"
#include "thespian/message.hpp"
#include "transport/frame.hpp"
#include "transport/frame_decoder.hpp"

namespace bounded_load_test {

struct Containers {
  std::string text;
  std::vector<std::int64_t> numbers;
  std::vector<std::vector<std::string>> nested;
  std::vector<bool> bits;
  std::deque<std::string> deque;
  std::list<int> list;
  std::forward_list<std::uint16_t> forward_list;
  std::unordered_set<std::string> set;
  std::unordered_multiset<int> multiset;
  bool flag = false;

  friend bool operator==(const Containers&, const Containers&) = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(text, numbers, nested, bits, deque, list, forward_list, set, multiset, flag);
  }
};

struct Text {
  std::string text;
  friend bool operator==(const Text&, const Text&) = default;
  template <class Archive>
  void serialize(Archive& ar) { ar(text); }
};

struct Numbers {
  std::vector<std::int64_t> numbers;
  friend bool operator==(const Numbers&, const Numbers&) = default;
  template <class Archive>
  void serialize(Archive& ar) { ar(numbers); }
};

struct Strings {
  std::deque<std::string> strings;
  friend bool operator==(const Strings&, const Strings&) = default;
  template <class Archive>
  void serialize(Archive& ar) { ar(strings); }
};

struct Flag {
  bool flag = false;
  friend bool operator==(const Flag&, const Flag&) = default;
  template <class Archive>
  void serialize(Archive& ar) { ar(flag); }
};

}  // namespace bounded_load_test

THESPIAN_MESSAGE(bounded_load_test::Containers);
THESPIAN_MESSAGE(bounded_load_test::Text);
THESPIAN_MESSAGE(bounded_load_test::Numbers);
THESPIAN_MESSAGE(bounded_load_test::Strings);
THESPIAN_MESSAGE(bounded_load_test::Flag);

namespace {

using thespian::ActorAddress;
using thespian::Message;
using thespian::transport::frame;
using thespian::transport::frame_decoder;
using thespian::transport::frame_error;
using thespian::transport::frame_header_size;
using thespian::transport::frame_kind;

// A data frame around `payload`, with a header built the way encode_frame builds it.
std::string with_header(const std::string& payload) {
  std::string bytes = thespian::transport::encode_frame(frame{}, 1 << 20).substr(0, frame_header_size);
  for (std::size_t i = 0; i < 4; ++i) bytes[8 + i] = static_cast<char>(payload.size() >> (8 * i));
  return bytes + payload;
}

// The payload of a null-addressed frame whose message is `wire_name` followed by raw `body`.
std::string hostile_payload(const std::string& wire_name, const std::string& body) {
  return unit_support::encode(ActorAddress(), ActorAddress(), wire_name) + body;
}

// A u64 as the archive writes it, without the leading endianness byte of a fresh archive.
std::string size_tag(std::uint64_t n) { return unit_support::encode(n).substr(1); }

thespian::transport::decode_error error_for(const std::string& bytes) {
  frame_decoder decoder(std::size_t{1} << 20);
  decoder.feed(bytes);
  auto r = decoder.next();
  BOOST_TEST_REQUIRE(r.is_error());
  return r.error();
}

Message decode_message(const std::string& bytes) {
  frame_decoder decoder(std::size_t{64} << 20);
  decoder.feed(bytes);
  auto r = decoder.next();
  BOOST_TEST_REQUIRE(r.has_frame(), (r.is_error() ? r.error().detail : "need more"));
  return r.value().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bounded_load)

BOOST_AUTO_TEST_CASE(every_hardened_container_round_trips_through_a_frame) {
  bounded_load_test::Containers c;
  c.text = std::string(100'000, 'x');
  c.numbers = {1, -2, std::numeric_limits<std::int64_t>::max()};
  c.nested = {{}, {"a", ""}, {std::string(5000, 'y')}};
  c.bits = {true, false, true, true};
  c.deque = {"d1", "d2"};
  c.list = {3, 1, 2};
  c.forward_list = {7, 8, 9};
  c.set = {"s1", "s2", "s3"};
  c.multiset = {4, 4, 5};
  c.flag = true;
  frame f;
  f.message = Message(c);
  const Message back = decode_message(thespian::transport::encode_frame(f, 1 << 20));
  BOOST_TEST_REQUIRE(back.is<bounded_load_test::Containers>());
  BOOST_TEST((back.as<bounded_load_test::Containers>() == c));

  bounded_load_test::Containers empty;
  f.message = Message(empty);
  BOOST_TEST((decode_message(thespian::transport::encode_frame(f, 1 << 20)) == Message(empty)));
}

BOOST_AUTO_TEST_CASE(a_string_longer_than_the_frame_is_refused_before_allocating) {
  const auto e = error_for(with_header(
      hostile_payload("bounded_load_test::Text", size_tag(std::uint64_t{1} << 39) + "abc")));
  BOOST_TEST((e.kind == frame_error::malformed_payload));
  BOOST_TEST(unit_support::contains(e.detail, "std::string of 549755813888 elements"), e.detail);
  BOOST_TEST(unit_support::contains(e.detail, "cannot fit in the 3 bytes left"), e.detail);
}

BOOST_AUTO_TEST_CASE(an_arithmetic_vector_is_checked_at_its_full_element_size) {
  // 4 elements of 8 bytes announced, 16 bytes present: the count fits bytes, not elements.
  const auto e = error_for(with_header(
      hostile_payload("bounded_load_test::Numbers", size_tag(4) + std::string(16, '\1'))));
  BOOST_TEST((e.kind == frame_error::malformed_payload));
  BOOST_TEST(unit_support::contains(e.detail, "std::vector of 4 elements"), e.detail);
}

BOOST_AUTO_TEST_CASE(a_container_count_above_the_bytes_left_is_refused) {
  const auto e = error_for(with_header(hostile_payload(
      "bounded_load_test::Strings", size_tag(std::numeric_limits<std::uint64_t>::max()))));
  BOOST_TEST((e.kind == frame_error::malformed_payload));
  BOOST_TEST(unit_support::contains(e.detail, "std::deque of 18446744073709551615 elements"),
             e.detail);
}

BOOST_AUTO_TEST_CASE(a_plausible_count_with_missing_elements_is_malformed_not_a_crash) {
  // 9 strings announced, room for at most 9 one-byte elements, but the strings are not there.
  const auto e = error_for(
      with_header(hostile_payload("bounded_load_test::Strings", size_tag(9) + "123456789")));
  BOOST_TEST((e.kind == frame_error::malformed_payload));
}

BOOST_AUTO_TEST_CASE(a_bool_byte_other_than_zero_or_one_is_refused) {
  BOOST_TEST((decode_message(with_header(hostile_payload("bounded_load_test::Flag", "\1"))) ==
              Message(bounded_load_test::Flag{true})));
  const auto e = error_for(with_header(hostile_payload("bounded_load_test::Flag", "\2")));
  BOOST_TEST((e.kind == frame_error::malformed_payload));
  BOOST_TEST(unit_support::contains(e.detail, "a bool on the wire holds 2"), e.detail);
}

BOOST_AUTO_TEST_CASE(outside_a_decode_only_memory_bounds_the_counts) {
  BOOST_TEST(thespian::detail::wire_bytes_left() == std::numeric_limits<std::size_t>::max());
  BOOST_CHECK_NO_THROW(thespian::detail::check_wire_count(1'000'000, 8, "x"));
  BOOST_CHECK_THROW(
      thespian::detail::check_wire_count(std::numeric_limits<std::uint64_t>::max() / 4, 8, "x"),
      cereal::Exception);
}

BOOST_AUTO_TEST_CASE(budget_scopes_nest_and_restore) {
  struct fixed final : thespian::detail::wire_byte_source {
    std::size_t n;
    explicit fixed(std::size_t v) : n(v) {}
    std::size_t remaining() const noexcept override { return n; }
  };
  const fixed outer(100), inner(7);
  {
    const thespian::detail::wire_budget_scope a(outer);
    BOOST_TEST(thespian::detail::wire_bytes_left() == 100u);
    {
      const thespian::detail::wire_budget_scope b(inner);
      BOOST_TEST(thespian::detail::wire_bytes_left() == 7u);
      BOOST_CHECK_THROW(thespian::detail::check_wire_count(8, 1, "x"), cereal::Exception);
    }
    BOOST_TEST(thespian::detail::wire_bytes_left() == 100u);
  }
  BOOST_TEST(thespian::detail::wire_bytes_left() == std::numeric_limits<std::size_t>::max());
}

BOOST_AUTO_TEST_SUITE_END()
