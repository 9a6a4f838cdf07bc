// Unit tests of Message (src/core/message_registry.cpp, include/thespian/message.hpp): typed
// access, equality rules, and wire names from THESPIAN_MESSAGE. Its cereal form, through which
// every registered type crosses processes, is tested in message_wire_test.cpp.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "../support.hpp"
#include "message_test_types.hpp"
#include "thespian/errors.hpp"
#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"

THESPIAN_MESSAGE(message_test::Greeting);
THESPIAN_MESSAGE(message_test::Tagged<std::int64_t, 2>);

namespace {

using thespian::ActorAddress;
using thespian::Message;
using unit_support::contains;
using unit_support::round_trip;

}  // namespace

BOOST_AUTO_TEST_SUITE(core_message)

// ------------------------------------------------------------------ typed access

BOOST_AUTO_TEST_CASE(default_constructed_message_is_empty_and_holds_no_type) {
  const Message m;
  BOOST_TEST(m.empty());
  BOOST_TEST(m.type_name().empty());
  BOOST_TEST(!m.is<std::string>());
  BOOST_TEST(m.get<std::string>() == nullptr);
  BOOST_TEST((m.type() == typeid(void)));
}

BOOST_AUTO_TEST_CASE(message_holding_a_value_is_not_empty) {
  const Message m = std::int64_t{0};
  BOOST_TEST(!m.empty());
}

BOOST_AUTO_TEST_CASE(is_holds_only_for_the_exact_stored_type) {
  const Message m = std::int64_t{1};
  BOOST_TEST(m.is<std::int64_t>());
  BOOST_TEST(!m.is<int>());
  BOOST_TEST(!m.is<bool>());
  BOOST_TEST(!m.is<double>());
  BOOST_TEST(!m.is<std::string>());
}

BOOST_AUTO_TEST_CASE(get_returns_the_value_or_nullptr_for_another_type) {
  const Message m = message_test::Greeting{"hi", 3};
  const auto* g = m.get<message_test::Greeting>();
  BOOST_REQUIRE(g != nullptr);
  BOOST_TEST(g->text == "hi");
  BOOST_TEST(g->count == 3);
  BOOST_TEST(m.get<std::string>() == nullptr);
  BOOST_TEST(m.get<message_test::Unregistered>() == nullptr);
}

BOOST_AUTO_TEST_CASE(as_returns_a_reference_to_the_stored_value) {
  const Message m = std::vector<std::string>{"a", "b"};
  const auto& v = m.as<std::vector<std::string>>();
  BOOST_TEST(v == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(&v == m.get<std::vector<std::string>>());
}

BOOST_AUTO_TEST_CASE(as_throws_bad_message_cast_naming_both_types) {
  const Message m = std::string("text");
  try {
    (void)m.as<std::int64_t>();
    BOOST_FAIL("as<std::int64_t>() on a std::string message did not throw");
  } catch (const thespian::BadMessageCast& e) {
    const std::string what = e.what();
    BOOST_TEST(contains(what, "std::string"), what);
    BOOST_TEST(contains(what, "std::int64_t"), what);
  }
}

BOOST_AUTO_TEST_CASE(as_names_unregistered_types_by_their_cpp_names) {
  const Message m = message_test::NoEquality{1};
  try {
    (void)m.as<message_test::Unregistered>();
    BOOST_FAIL("as<Unregistered>() on a NoEquality message did not throw");
  } catch (const thespian::BadMessageCast& e) {
    const std::string what = e.what();
    BOOST_TEST(contains(what, "message_test::NoEquality"), what);
    BOOST_TEST(contains(what, "message_test::Unregistered"), what);
  }
}

BOOST_AUTO_TEST_CASE(as_on_an_empty_message_throws_bad_message_cast_naming_the_wanted_type) {
  const Message m;
  try {
    (void)m.as<message_test::Greeting>();
    BOOST_FAIL("as<Greeting>() on an empty message did not throw");
  } catch (const thespian::BadMessageCast& e) {
    BOOST_TEST(contains(e.what(), "message_test::Greeting"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(bad_message_cast_is_an_actor_system_exception) {
  const Message m = true;
  BOOST_CHECK_THROW((void)m.as<double>(), thespian::ActorSystemException);
  BOOST_CHECK_THROW((void)m.as<double>(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(string_literal_is_stored_as_std_string) {
  const Message m = "hello";
  BOOST_TEST(m.is<std::string>());
  BOOST_TEST(m.as<std::string>() == "hello");
  BOOST_TEST(m.type_name() == "std::string");
}

BOOST_AUTO_TEST_CASE(const_char_pointer_and_char_array_are_stored_as_std_string) {
  const char* pointer = "from a pointer";
  char array[] = "from an array";
  const Message a = pointer;
  const Message b = array;
  BOOST_TEST(a.is<std::string>());
  BOOST_TEST(a.as<std::string>() == "from a pointer");
  BOOST_TEST(b.is<std::string>());
  BOOST_TEST(b.as<std::string>() == "from an array");
  BOOST_TEST((a == Message(std::string("from a pointer"))));
}

BOOST_AUTO_TEST_CASE(copies_share_one_immutable_payload) {
  const Message a = message_test::Greeting{"shared", 1};
  const Message b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  BOOST_TEST(&a.as<message_test::Greeting>() == &b.as<message_test::Greeting>());
}

// ------------------------------------------------------------------ type names

BOOST_AUTO_TEST_CASE(type_name_of_a_registered_type_is_exactly_the_macro_text) {
  BOOST_TEST(Message(message_test::Greeting{}).type_name() == "message_test::Greeting");
  BOOST_TEST(Message(message_test::Tagged<std::int64_t, 2>{}).type_name() ==
             "message_test::Tagged<std::int64_t, 2>");
}

BOOST_AUTO_TEST_CASE(type_names_of_the_library_registered_basic_types_are_their_macro_text) {
  BOOST_TEST(Message(std::string("x")).type_name() == "std::string");
  BOOST_TEST(Message(true).type_name() == "bool");
  BOOST_TEST(Message(std::int64_t{1}).type_name() == "std::int64_t");
  BOOST_TEST(Message(1.5).type_name() == "double");
  BOOST_TEST(Message(std::vector<std::string>{}).type_name() == "std::vector<std::string>");
  BOOST_TEST(Message(ActorAddress{}).type_name() == "thespian::ActorAddress");
}

BOOST_AUTO_TEST_CASE(type_name_of_an_unregistered_type_is_its_demangled_name) {
  BOOST_TEST(Message(message_test::NoEquality{}).type_name() == "message_test::NoEquality");
  BOOST_TEST(Message(message_test::Tagged<int, 7>{}).type_name() == "message_test::Tagged<int, 7>");
}

BOOST_AUTO_TEST_CASE(codec_is_found_by_type_and_by_wire_name_alike) {
  const auto* by_type = thespian::detail::find_codec(typeid(message_test::Greeting));
  const auto* by_name = thespian::detail::find_codec("message_test::Greeting");
  BOOST_REQUIRE(by_type != nullptr);
  BOOST_TEST(by_type == by_name);
  BOOST_TEST(by_type->wire_name == "message_test::Greeting");
  BOOST_TEST(thespian::detail::find_codec(typeid(message_test::Unregistered)) == nullptr);
  BOOST_TEST(thespian::detail::find_codec("message_test::Unregistered") == nullptr);
}

BOOST_AUTO_TEST_CASE(a_second_registration_of_a_taken_wire_name_leaves_the_first_in_place) {
  thespian::detail::message_registrar<message_test::Impostor> impostor("message_test::Greeting");
  const auto* codec = thespian::detail::find_codec("message_test::Greeting");
  BOOST_REQUIRE(codec != nullptr);
  BOOST_TEST((*codec->type == typeid(message_test::Greeting)));
  BOOST_TEST(thespian::detail::find_codec(typeid(message_test::Impostor)) == nullptr);
  BOOST_TEST(Message(message_test::Greeting{}).type_name() == "message_test::Greeting");
}

// ------------------------------------------------------------------ equality

BOOST_AUTO_TEST_CASE(messages_of_one_type_with_equal_values_are_equal) {
  BOOST_TEST((Message(message_test::Greeting{"a", 1}) == Message(message_test::Greeting{"a", 1})));
  BOOST_TEST((Message(std::string("x")) == Message("x")));
}

BOOST_AUTO_TEST_CASE(messages_of_one_type_with_different_values_differ) {
  BOOST_TEST((Message(message_test::Greeting{"a", 1}) != Message(message_test::Greeting{"a", 2})));
  BOOST_TEST((Message(std::int64_t{1}) != Message(std::int64_t{2})));
}

BOOST_AUTO_TEST_CASE(int64_one_is_not_equal_to_true) {
  BOOST_TEST((Message(std::int64_t{1}) != Message(true)));
  BOOST_TEST((Message(true) != Message(std::int64_t{1})));
}

BOOST_AUTO_TEST_CASE(values_of_different_types_are_never_equal_even_when_convertible) {
  BOOST_TEST((Message(std::int64_t{2}) != Message(2.0)));
  BOOST_TEST((Message(std::int64_t{2}) != Message(2)));  // int is not std::int64_t
  BOOST_TEST((Message(message_test::Tagged<int, 1>{5}) != Message(message_test::Tagged<int, 2>{5})));
}

BOOST_AUTO_TEST_CASE(type_without_equality_is_equal_only_to_copies_of_the_same_message) {
  const Message original = message_test::NoEquality{1};
  const Message copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  const Message lookalike = message_test::NoEquality{1};
  BOOST_TEST((original == copy));
  BOOST_TEST((original == original));
  BOOST_TEST((original != lookalike));
}

BOOST_AUTO_TEST_CASE(empty_messages_are_equal_to_each_other_and_to_nothing_else) {
  BOOST_TEST((Message{} == Message{}));
  BOOST_TEST((Message{} != Message(std::string())));
  BOOST_TEST((Message(false) != Message{}));
}

// ------------------------------------------------------------------ small values in the Message

// A small plain value with == lives in the Message itself (message.hpp, stored_locally): no
// heap payload, no reference count for another thread to touch.
BOOST_AUTO_TEST_CASE(a_small_plain_value_is_held_in_the_message_not_in_a_shared_payload) {
  const Message a(std::int64_t{7});
  const Message b(std::int64_t{8});
  BOOST_TEST(a.payload() == b.payload());  // the type's one descriptor, not a box per message
  BOOST_TEST(a.payload()->value() == nullptr);
  const auto* value = reinterpret_cast<const unsigned char*>(a.get<std::int64_t>());
  const auto* self = reinterpret_cast<const unsigned char*>(&a);
  BOOST_TEST((value >= self && value < self + sizeof(Message)));
  BOOST_TEST(*a.get<std::int64_t>() == 7);
  BOOST_TEST(*b.get<std::int64_t>() == 8);
}

BOOST_AUTO_TEST_CASE(larger_or_incomparable_values_keep_a_shared_payload) {
  const Message text("a string");
  const Message lookalike = message_test::NoEquality{1};
  BOOST_TEST(text.payload()->value() != nullptr);
  BOOST_TEST(lookalike.payload()->value() != nullptr);
  BOOST_TEST(Message(message_test::Greeting{"g", 1}).payload()->value() != nullptr);
}

namespace empty_signal_test {
struct Signal {};  // empty, no ==
}  // namespace empty_signal_test

// An empty type without == (a signal) is held in the Message too, with an identity: no heap
// payload, and still equal only to copies of the same Message, also when the copies were made
// on other threads and the lookalikes too.
BOOST_AUTO_TEST_CASE(an_empty_signal_is_held_locally_and_equal_only_to_its_copies) {
  using empty_signal_test::Signal;
  const Message original = Signal{};
  const Message copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  Message moved_from = original;
  const Message moved = std::move(moved_from);
  const Message lookalike = Signal{};
  BOOST_TEST(original.payload()->value() == nullptr);
  BOOST_TEST(original.payload() == lookalike.payload());
  BOOST_TEST(original.is<Signal>());
  BOOST_TEST(original.get<Signal>() != nullptr);
  BOOST_TEST((original == copy));
  BOOST_TEST((original == moved));
  BOOST_TEST((original != lookalike));
  std::vector<Message> made(4 * 500);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < 500; ++i) made[t * 500 + i] = Signal{};
    });
  }
  for (auto& thread : threads) thread.join();
  made.push_back(original);
  std::size_t equal_pairs = 0;
  for (std::size_t i = 0; i < made.size(); ++i) {
    for (std::size_t j = i + 1; j < made.size(); ++j) equal_pairs += made[i] == made[j] ? 1 : 0;
  }
  BOOST_TEST(equal_pairs == 0U);
}

BOOST_AUTO_TEST_CASE(a_local_value_survives_copies_moves_and_assignment) {
  Message original(std::int64_t{41});
  Message copy = original;
  BOOST_TEST((copy == original));
  const std::int64_t* before_move = original.get<std::int64_t>();
  Message moved = std::move(original);
  BOOST_TEST(original.empty());  // NOLINT(bugprone-use-after-move)
  BOOST_TEST(*before_move == 41);  // the moved-from object still holds the bytes
  BOOST_TEST(moved.as<std::int64_t>() == 41);
  copy = Message("now a string");
  BOOST_TEST(copy.as<std::string>() == "now a string");
  copy = moved;
  BOOST_TEST(copy.as<std::int64_t>() == 41);
  moved = Message(true);
  BOOST_TEST(moved.as<bool>());
  BOOST_TEST((copy != moved));
}

BOOST_AUTO_TEST_CASE(system_messages_held_locally_keep_their_control_flag_and_equality) {
  const Message exit_request = thespian::ActorExitRequest{true};
  BOOST_TEST(exit_request.payload()->value() == nullptr);
  BOOST_TEST(exit_request.is_control());
  BOOST_TEST((exit_request == Message(thespian::ActorExitRequest{false})));  // all are equal
  BOOST_TEST(!Message(std::int64_t{1}).is_control());
}

namespace payload_count_test {
std::atomic<int> destroyed{0};
struct Counted {
  std::string text;
  Counted(std::string t) : text(std::move(t)) {}  // NOLINT(google-explicit-constructor)
  Counted(const Counted&) = default;
  Counted(Counted&& other) noexcept : text(std::move(other.text)) { other.moved = true; }
  ~Counted() {
    if (!moved) destroyed.fetch_add(1);
  }
  bool moved = false;
};
}  // namespace payload_count_test

// A shared payload's count is the Message's own now: copies made and dropped on several threads
// free it exactly once, after the last one.
BOOST_AUTO_TEST_CASE(a_shared_payload_is_freed_once_after_copies_on_several_threads) {
  using payload_count_test::Counted;
  payload_count_test::destroyed = 0;
  {
    const Message shared = Counted("shared");
    const Message local(std::int64_t{3});
    std::vector<std::thread> threads;
    std::atomic<bool> wrong{false};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 20000; ++i) {
          const Message a = shared;  // NOLINT(performance-unnecessary-copy-initialization)
          Message b = local;
          if (a.as<Counted>().text != "shared" || b.as<std::int64_t>() != 3) wrong = true;
        }
      });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(!wrong.load());
    BOOST_TEST(payload_count_test::destroyed.load() == 0);
  }
  BOOST_TEST(payload_count_test::destroyed.load() == 1);
}


// Each thread caches lookups that found a codec (message_registry.cpp): a miss must not be
// remembered, and a name must match exactly, not merely share a cache slot.
namespace registry_cache_test {
struct RegisteredLater {
  std::int64_t value = 0;
  bool operator==(const RegisteredLater&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(value);
  }
};
}  // namespace registry_cache_test

BOOST_AUTO_TEST_CASE(a_type_and_a_name_looked_up_before_their_registration_are_found_after_it) {
  BOOST_TEST(thespian::detail::find_codec(typeid(registry_cache_test::RegisteredLater)) == nullptr);
  BOOST_TEST(thespian::detail::find_codec("message_test::RegisteredLater") == nullptr);
  const thespian::detail::message_registrar<registry_cache_test::RegisteredLater> registrar(
      "message_test::RegisteredLater");
  const auto* by_type = thespian::detail::find_codec(typeid(registry_cache_test::RegisteredLater));
  const auto* by_name = thespian::detail::find_codec("message_test::RegisteredLater");
  BOOST_REQUIRE(by_type != nullptr);
  BOOST_TEST(by_type == by_name);
  BOOST_TEST((round_trip(Message(registry_cache_test::RegisteredLater{7})) ==
              Message(registry_cache_test::RegisteredLater{7})));
}

BOOST_AUTO_TEST_CASE(a_wire_name_lookup_matches_whole_names_only) {
  const auto* codec = thespian::detail::find_codec("std::string");
  BOOST_REQUIRE(codec != nullptr);
  BOOST_TEST(thespian::detail::find_codec("std::string") == codec);  // from the cache
  BOOST_TEST(thespian::detail::find_codec("std::strin") == nullptr);
  BOOST_TEST(thespian::detail::find_codec("xstd::string") == nullptr);
  BOOST_TEST(thespian::detail::find_codec("std::string ") == nullptr);
  BOOST_TEST(thespian::detail::find_codec("") == nullptr);
  BOOST_TEST(thespian::detail::find_codec("std::string") == codec);
}

BOOST_AUTO_TEST_CASE(unserializable_message_is_an_actor_system_exception) {
  BOOST_CHECK_THROW((void)unit_support::encode(Message(message_test::Unregistered{})),
                    thespian::ActorSystemException);
}

BOOST_AUTO_TEST_SUITE_END()

namespace message_test {
using NameList = std::vector<std::string>;  // an alias of a type the library registers
}  // namespace message_test
THESPIAN_MESSAGE(message_test::NameList);

BOOST_AUTO_TEST_CASE(registering_a_type_again_under_an_alias_keeps_the_first_wire_name) {
  thespian::Message m = message_test::NameList{"a", "b"};
  BOOST_TEST(m.type_name() == "std::vector<std::string>");
  const auto* by_alias = thespian::detail::find_codec("message_test::NameList");
  BOOST_TEST(by_alias == nullptr);
  const auto* codec = thespian::detail::find_codec(typeid(message_test::NameList));
  BOOST_REQUIRE(codec != nullptr);
  BOOST_TEST(codec->wire_name == "std::vector<std::string>");
}

BOOST_AUTO_TEST_CASE(a_null_c_string_is_stored_as_an_empty_string) {
  const char* nothing = nullptr;
  thespian::Message m = nothing;
  BOOST_REQUIRE(m.is<std::string>());
  BOOST_TEST(m.as<std::string>().empty());
}
