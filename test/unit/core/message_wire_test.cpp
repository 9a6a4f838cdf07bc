// Unit tests of Message's wire form (src/core/message_registry.cpp and the cereal functions of
// include/thespian/message.hpp and system_messages.hpp): every registered type, the library's
// own and the system messages included, round-trips through it, and a type or wire name that
// is not registered fails with UnserializableMessage naming it.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "../support.hpp"
#include "message_test_types.hpp"
#include "thespian/errors.hpp"
#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;
using unit_support::contains;
using unit_support::round_trip;

ActorAddress live_address(const unit_support::recording_ref& ep) {
  return ActorAddress(ep);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_message_wire)


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

BOOST_AUTO_TEST_SUITE_END()
