// Unit tests of Message (src/core/message_registry.cpp, include/thespian/message.hpp): typed
// access, equality rules, wire names from THESPIAN_MESSAGE, and the cereal form through which
// every registered type (the library's own and the system messages included) crosses processes.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "../support.hpp"
#include "thespian/errors.hpp"
#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"

namespace message_test {

struct Greeting {
  std::string text;
  std::int64_t count = 0;
  bool operator==(const Greeting&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(text, count);
  }
};

// A registered template type: its wire name keeps the macro's spelling, comma included.
template <class T, int N>
struct Tagged {
  T value{};
  bool operator==(const Tagged&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(value);
  }
};

// Serializable and comparable, but never registered.
struct Unregistered {
  int value = 0;
  bool operator==(const Unregistered&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(value);
  }
};

// No operator==: messages holding one are equal only to copies of themselves.
struct NoEquality {
  int value = 0;
};

// Registered at run time by one test with a wire name that is already taken.
struct Impostor {
  template <class A>
  void serialize(A&) {}
};

}  // namespace message_test

THESPIAN_MESSAGE(message_test::Greeting);
THESPIAN_MESSAGE(message_test::Tagged<std::int64_t, 2>);

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using unit_support::contains;
using unit_support::round_trip;

ActorAddress live_address(const std::shared_ptr<unit_support::recording_endpoint>& ep) {
  return ActorAddress(ep);
}

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

// ------------------------------------------------------------------ the wire

BOOST_AUTO_TEST_CASE(wire_form_begins_with_the_wire_name) {
  const std::string bytes = unit_support::encode(Message(message_test::Tagged<std::int64_t, 2>{9}));
  std::stringstream buffer(bytes);
  cereal::PortableBinaryInputArchive in(buffer);
  std::string wire_name;
  in(wire_name);
  BOOST_TEST(wire_name == "message_test::Tagged<std::int64_t, 2>");
}

BOOST_AUTO_TEST_CASE(save_and_load_called_directly_round_trip_a_message) {
  std::stringstream buffer;
  {
    cereal::PortableBinaryOutputArchive out(buffer);
    Message(message_test::Greeting{"direct", 11}).save(out);
  }
  Message back;
  cereal::PortableBinaryInputArchive in(buffer);
  back.load(in);
  BOOST_TEST((back == Message(message_test::Greeting{"direct", 11})));
}

BOOST_AUTO_TEST_CASE(load_replaces_whatever_the_message_held) {
  const std::string bytes = unit_support::encode(Message{});
  std::stringstream buffer(bytes);
  cereal::PortableBinaryInputArchive in(buffer);
  Message target = std::string("old content");
  target.load(in);
  BOOST_TEST(target.empty());
}

BOOST_AUTO_TEST_CASE(round_trip_keeps_the_empty_message_empty) {
  BOOST_TEST(round_trip(Message{}).empty());
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_std_string_including_nul_and_non_ascii_bytes) {
  const std::string text("a\0b \xc3\xa9", 6);
  const Message back = round_trip(Message(text));
  BOOST_REQUIRE(back.is<std::string>());
  BOOST_TEST(back.as<std::string>() == text);
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_bool) {
  for (bool b : {false, true}) {
    const Message back = round_trip(Message(b));
    BOOST_REQUIRE(back.is<bool>());
    BOOST_TEST(back.as<bool>() == b);
  }
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_int64_extremes) {
  for (std::int64_t n : {std::int64_t{0}, std::int64_t{-1}, INT64_MIN, INT64_MAX}) {
    const Message back = round_trip(Message(n));
    BOOST_REQUIRE(back.is<std::int64_t>());
    BOOST_TEST(back.as<std::int64_t>() == n);
  }
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_double_exactly) {
  for (double d : {0.1, -2.5e300, 1.0 / 3.0}) {
    const Message back = round_trip(Message(d));
    BOOST_REQUIRE(back.is<double>());
    BOOST_TEST(back.as<double>() == d);  // bit-exact, not approximately
  }
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_vector_of_strings) {
  const std::vector<std::string> v{"", "one", std::string(1000, 'x')};
  const Message back = round_trip(Message(v));
  BOOST_REQUIRE(back.is<std::vector<std::string>>());
  BOOST_TEST(back.as<std::vector<std::string>>() == v, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_an_actor_address_message) {
  auto ep = unit_support::make_recording_endpoint();
  const ActorAddress a = live_address(ep);
  const Message back = round_trip(Message(a));
  BOOST_REQUIRE(back.is<ActorAddress>());
  BOOST_TEST((back.as<ActorAddress>() == a));
  BOOST_TEST((round_trip(Message(ActorAddress{})).as<ActorAddress>() == ActorAddress{}));
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_a_user_registered_type) {
  const Message back = round_trip(Message(message_test::Greeting{"hello", 42}));
  BOOST_REQUIRE(back.is<message_test::Greeting>());
  BOOST_TEST(back.as<message_test::Greeting>().text == "hello");
  BOOST_TEST(back.as<message_test::Greeting>().count == 42);
  BOOST_TEST(back.type_name() == "message_test::Greeting");
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_actor_exit_request_and_its_flag) {
  for (bool recursive : {false, true}) {
    const Message back = round_trip(Message(thespian::ActorExitRequest{recursive}));
    BOOST_REQUIRE(back.is<thespian::ActorExitRequest>());
    // All ActorExitRequests compare equal, so the field itself is checked.
    BOOST_TEST(back.as<thespian::ActorExitRequest>().recursive == recursive);
  }
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_child_actor_exited) {
  auto ep = unit_support::make_recording_endpoint();
  const thespian::ChildActorExited sent{live_address(ep)};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::ChildActorExited>());
  BOOST_TEST((back.as<thespian::ChildActorExited>().child == sent.child));
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_poison_message_with_its_nested_message_and_details) {
  const thespian::PoisonMessage sent{message_test::Greeting{"bad", 1}, "std::runtime_error: boom"};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::PoisonMessage>());
  const auto& p = back.as<thespian::PoisonMessage>();
  BOOST_REQUIRE(p.poison.is<message_test::Greeting>());
  BOOST_TEST((p.poison == sent.poison));
  BOOST_TEST(p.details == sent.details);  // not part of ==, so checked on its own
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_dead_envelope_with_its_nested_message) {
  auto ep = unit_support::make_recording_endpoint();
  const thespian::DeadEnvelope sent{live_address(ep), std::string("undelivered")};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::DeadEnvelope>());
  const auto& d = back.as<thespian::DeadEnvelope>();
  BOOST_TEST((d.dead_address == sent.dead_address));
  BOOST_TEST(d.dead_message.as<std::string>() == "undelivered");
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_wakeup_message_with_and_without_payload) {
  const thespian::WakeupMessage with{std::chrono::nanoseconds(1'500'000'001), std::int64_t{7}};
  const thespian::WakeupMessage without{250ms, Message{}};
  for (const auto& sent : {with, without}) {
    const Message back = round_trip(Message(sent));
    BOOST_REQUIRE(back.is<thespian::WakeupMessage>());
    const auto& w = back.as<thespian::WakeupMessage>();
    BOOST_TEST(w.delay.count() == sent.delay.count());
    BOOST_TEST((w.payload == sent.payload));
  }
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_watch_message) {
  const thespian::WatchMessage sent{{0, 3, 1023}};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::WatchMessage>());
  BOOST_TEST(back.as<thespian::WatchMessage>().ready == sent.ready,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_convention_update_with_every_capability_kind) {
  const thespian::ActorSystemConventionUpdate sent{
      "10.0.0.7:1900",
      {{"Flag", true}, {"Count", std::int64_t{-3}}, {"Ratio", 0.25}, {"Name", std::string("n")}},
      true};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::ActorSystemConventionUpdate>());
  const auto& u = back.as<thespian::ActorSystemConventionUpdate>();
  BOOST_TEST(u.remote_admin == sent.remote_admin);
  BOOST_TEST((u.capabilities == sent.capabilities));
  BOOST_TEST(u.added == true);
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_every_field_of_validate_source) {
  const thespian::ValidateSource sent{"hash-1", std::string("\x00\x01zip", 5), "from test"};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::ValidateSource>());
  const auto& v = back.as<thespian::ValidateSource>();
  BOOST_TEST(v.source_hash == sent.source_hash);
  BOOST_TEST(v.data == sent.data);
  BOOST_TEST(v.source_info == sent.source_info);
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_every_field_of_validated_source) {
  const thespian::ValidatedSource with{"hash-2", std::string("payload"), "ok"};
  const thespian::ValidatedSource without{"hash-3", std::nullopt, "rejected"};
  for (const auto& sent : {with, without}) {
    const Message back = round_trip(Message(sent));
    BOOST_REQUIRE(back.is<thespian::ValidatedSource>());
    const auto& v = back.as<thespian::ValidatedSource>();
    BOOST_TEST(v.source_hash == sent.source_hash);
    BOOST_TEST((v.data == sent.data));
    BOOST_TEST(v.source_info == sent.source_info);
  }
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_loaded_and_unloaded_source) {
  const thespian::LoadedSource loaded{"h-load", "info-load"};
  const thespian::UnloadedSource unloaded{"h-unload", "info-unload"};
  BOOST_TEST((round_trip(Message(loaded)) == Message(loaded)));
  BOOST_TEST((round_trip(Message(unloaded)) == Message(unloaded)));
  BOOST_TEST(round_trip(Message(loaded)).as<thespian::LoadedSource>().source_info == "info-load");
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_status_request) {
  const Message back = round_trip(Message(thespian::StatusRequest{}));
  BOOST_TEST(back.is<thespian::StatusRequest>());
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_every_field_of_actor_status) {
  auto self = unit_support::make_recording_endpoint();
  auto parent = unit_support::make_recording_endpoint();
  auto child = unit_support::make_recording_endpoint();
  const thespian::ActorStatus sent{live_address(self), "app::Worker", live_address(parent),
                                   {live_address(child)}, 3, 2, 100, 99};
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::ActorStatus>());
  BOOST_TEST((back.as<thespian::ActorStatus>() == sent));
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_every_field_of_system_status) {
  auto named = unit_support::make_recording_endpoint();
  auto handler = unit_support::make_recording_endpoint();
  thespian::SystemStatus sent;
  sent.admin_address = "local:1";
  sent.base = "simpleSystemBase";
  sent.capabilities = {{"Thread Count", std::int64_t{4}}, {"GPU", true}};
  sent.convention_leader = "10.0.0.1:1900";
  sent.convention_members = {"10.0.0.2:1900", "10.0.0.3:1900"};
  sent.global_names = {{"registrar", live_address(named)}};
  sent.dead_letter_handler = live_address(handler);
  sent.loaded_sources = {"abc123"};
  sent.actor_count = 12;
  const Message back = round_trip(Message(sent));
  BOOST_REQUIRE(back.is<thespian::SystemStatus>());
  BOOST_TEST((back.as<thespian::SystemStatus>() == sent));
  BOOST_TEST(!back.as<thespian::SystemStatus>().source_authority);
}

BOOST_AUTO_TEST_CASE(round_trip_preserves_deeply_nested_messages) {
  auto ep = unit_support::make_recording_endpoint();
  const thespian::WakeupMessage inner{10ms, message_test::Greeting{"deep", 5}};
  const thespian::DeadEnvelope middle{live_address(ep), inner};
  const thespian::PoisonMessage outer{middle, "details"};
  const Message back = round_trip(Message(outer));
  BOOST_REQUIRE(back.is<thespian::PoisonMessage>());
  const auto& dead = back.as<thespian::PoisonMessage>().poison.as<thespian::DeadEnvelope>();
  BOOST_TEST((dead.dead_address == live_address(ep)));
  const auto& wakeup = dead.dead_message.as<thespian::WakeupMessage>();
  BOOST_TEST(wakeup.delay.count() == std::chrono::nanoseconds(10ms).count());
  BOOST_TEST(wakeup.payload.as<message_test::Greeting>().text == "deep");
}

BOOST_AUTO_TEST_CASE(saving_an_unregistered_type_throws_unserializable_message_naming_it) {
  try {
    (void)unit_support::encode(Message(message_test::Unregistered{1}));
    BOOST_FAIL("saving an unregistered message type did not throw");
  } catch (const thespian::UnserializableMessage& e) {
    BOOST_TEST(contains(e.what(), "message_test::Unregistered"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(saving_a_system_message_that_nests_an_unregistered_type_throws) {
  const thespian::PoisonMessage poison{message_test::NoEquality{1}, "details"};
  BOOST_CHECK_THROW((void)unit_support::encode(Message(poison)), thespian::UnserializableMessage);
  const thespian::WakeupMessage wakeup{1ms, message_test::Unregistered{2}};
  BOOST_CHECK_THROW((void)unit_support::encode(Message(wakeup)), thespian::UnserializableMessage);
}

BOOST_AUTO_TEST_CASE(loading_an_unknown_wire_name_throws_unserializable_message_naming_it) {
  const std::string bytes = unit_support::encode(std::string("no_such::WireName"));
  try {
    (void)unit_support::decode<Message>(bytes);
    BOOST_FAIL("loading an unknown wire name did not throw");
  } catch (const thespian::UnserializableMessage& e) {
    BOOST_TEST(contains(e.what(), "no_such::WireName"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_wire_name_longer_than_the_stack_buffer_is_still_named) {
  const std::string name = "no_such::" + std::string(400, 'N');
  try {
    (void)unit_support::decode<Message>(unit_support::encode(name));
    BOOST_FAIL("loading an unknown wire name did not throw");
  } catch (const thespian::UnserializableMessage& e) {
    BOOST_TEST(contains(e.what(), name), e.what());
  }
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
