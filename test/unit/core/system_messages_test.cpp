// Unit tests of the system messages (include/thespian/system_messages.hpp): defaults of the
// aggregates, Thespian's equality rules (which fields take part in ==), and their wire names.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "../support.hpp"
#include "thespian/system_messages.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Message;

}  // namespace

BOOST_AUTO_TEST_SUITE(core_system_messages)

BOOST_AUTO_TEST_CASE(system_messages_default_construct_to_documented_values) {
  BOOST_TEST(thespian::ActorExitRequest{}.recursive == true);
  BOOST_TEST(thespian::WakeupMessage{}.delay.count() == 0);
  BOOST_TEST(thespian::WakeupMessage{}.payload.empty());
  BOOST_TEST(thespian::PoisonMessage{}.poison.empty());
  BOOST_TEST(!thespian::ChildActorExited{}.child);
  BOOST_TEST(thespian::ActorSystemConventionUpdate{}.added == false);
  BOOST_TEST(!thespian::ValidatedSource{}.data.has_value());
  const thespian::ActorStatus a{};
  BOOST_TEST(a.pending_messages == 0u);
  BOOST_TEST(a.pending_wakeups == 0u);
  BOOST_TEST(a.received == 0u);
  BOOST_TEST(a.sent == 0u);
  const thespian::SystemStatus s{};
  BOOST_TEST(s.actor_count == 0u);
  BOOST_TEST(!s.dead_letter_handler);
  BOOST_TEST(!s.source_authority);
}

BOOST_AUTO_TEST_CASE(all_actor_exit_requests_are_equal) {
  BOOST_TEST((thespian::ActorExitRequest{true} == thespian::ActorExitRequest{false}));
  BOOST_TEST((Message(thespian::ActorExitRequest{true}) == Message(thespian::ActorExitRequest{false})));
}

BOOST_AUTO_TEST_CASE(all_status_requests_are_equal) {
  BOOST_TEST((thespian::StatusRequest{} == thespian::StatusRequest{}));
}

BOOST_AUTO_TEST_CASE(poison_messages_compare_only_the_poison) {
  const thespian::PoisonMessage a{std::string("m"), "std::runtime_error: one"};
  const thespian::PoisonMessage b{std::string("m"), "std::logic_error: two"};
  const thespian::PoisonMessage c{std::string("other"), "std::runtime_error: one"};
  BOOST_TEST((a == b));
  BOOST_TEST((a != c));
  BOOST_TEST((Message(a) == Message(b)));
}

BOOST_AUTO_TEST_CASE(validate_source_compares_only_the_source_hash) {
  const thespian::ValidateSource a{"h", "data-1", "info-1"};
  const thespian::ValidateSource b{"h", "data-2", "info-2"};
  const thespian::ValidateSource c{"h2", "data-1", "info-1"};
  BOOST_TEST((a == b));
  BOOST_TEST((a != c));
}

BOOST_AUTO_TEST_CASE(validated_source_compares_only_the_source_hash) {
  const thespian::ValidatedSource a{"h", std::string("data"), "info-1"};
  const thespian::ValidatedSource b{"h", std::nullopt, "info-2"};
  const thespian::ValidatedSource c{"h2", std::string("data"), "info-1"};
  BOOST_TEST((a == b));
  BOOST_TEST((a != c));
}

BOOST_AUTO_TEST_CASE(loaded_and_unloaded_source_compare_every_field) {
  BOOST_TEST((thespian::LoadedSource{"h", "i"} == thespian::LoadedSource{"h", "i"}));
  BOOST_TEST((thespian::LoadedSource{"h", "i"} != thespian::LoadedSource{"h", "j"}));
  BOOST_TEST((thespian::UnloadedSource{"h", "i"} != thespian::UnloadedSource{"h", "j"}));
  BOOST_TEST((thespian::UnloadedSource{"h", "i"} != thespian::UnloadedSource{"g", "i"}));
}

BOOST_AUTO_TEST_CASE(dead_envelope_compares_address_and_message) {
  auto one = unit_support::make_recording_endpoint();
  auto two = unit_support::make_recording_endpoint();
  const thespian::DeadEnvelope a{ActorAddress(one), std::string("m")};
  BOOST_TEST((a == thespian::DeadEnvelope{ActorAddress(one), std::string("m")}));
  BOOST_TEST((a != thespian::DeadEnvelope{ActorAddress(two), std::string("m")}));
  BOOST_TEST((a != thespian::DeadEnvelope{ActorAddress(one), std::string("n")}));
}

BOOST_AUTO_TEST_CASE(wakeup_message_compares_delay_and_payload) {
  const thespian::WakeupMessage a{5ms, std::string("p")};
  BOOST_TEST((a == thespian::WakeupMessage{5ms, std::string("p")}));
  BOOST_TEST((a != thespian::WakeupMessage{6ms, std::string("p")}));
  BOOST_TEST((a != thespian::WakeupMessage{5ms, std::string("q")}));
}

BOOST_AUTO_TEST_CASE(child_actor_exited_and_watch_message_compare_their_fields) {
  auto one = unit_support::make_recording_endpoint();
  auto two = unit_support::make_recording_endpoint();
  BOOST_TEST((thespian::ChildActorExited{ActorAddress(one)} ==
              thespian::ChildActorExited{ActorAddress(one)}));
  BOOST_TEST((thespian::ChildActorExited{ActorAddress(one)} !=
              thespian::ChildActorExited{ActorAddress(two)}));
  BOOST_TEST((thespian::WatchMessage{{1, 2}} == thespian::WatchMessage{{1, 2}}));
  BOOST_TEST((thespian::WatchMessage{{1, 2}} != thespian::WatchMessage{{2, 1}}));
}

BOOST_AUTO_TEST_CASE(convention_update_compares_every_field) {
  const thespian::ActorSystemConventionUpdate a{"h:1", {{"GPU", true}}, true};
  BOOST_TEST((a == thespian::ActorSystemConventionUpdate{"h:1", {{"GPU", true}}, true}));
  BOOST_TEST((a != thespian::ActorSystemConventionUpdate{"h:2", {{"GPU", true}}, true}));
  BOOST_TEST((a != thespian::ActorSystemConventionUpdate{"h:1", {{"GPU", false}}, true}));
  BOOST_TEST((a != thespian::ActorSystemConventionUpdate{"h:1", {{"GPU", true}}, false}));
}

BOOST_AUTO_TEST_CASE(system_messages_are_registered_under_their_qualified_names) {
  BOOST_TEST(Message(thespian::ActorExitRequest{}).type_name() == "thespian::ActorExitRequest");
  BOOST_TEST(Message(thespian::ChildActorExited{}).type_name() == "thespian::ChildActorExited");
  BOOST_TEST(Message(thespian::PoisonMessage{}).type_name() == "thespian::PoisonMessage");
  BOOST_TEST(Message(thespian::DeadEnvelope{}).type_name() == "thespian::DeadEnvelope");
  BOOST_TEST(Message(thespian::WakeupMessage{}).type_name() == "thespian::WakeupMessage");
  BOOST_TEST(Message(thespian::WatchMessage{}).type_name() == "thespian::WatchMessage");
  BOOST_TEST(Message(thespian::ActorSystemConventionUpdate{}).type_name() ==
             "thespian::ActorSystemConventionUpdate");
  BOOST_TEST(Message(thespian::ValidateSource{}).type_name() == "thespian::ValidateSource");
  BOOST_TEST(Message(thespian::ValidatedSource{}).type_name() == "thespian::ValidatedSource");
  BOOST_TEST(Message(thespian::LoadedSource{}).type_name() == "thespian::LoadedSource");
  BOOST_TEST(Message(thespian::UnloadedSource{}).type_name() == "thespian::UnloadedSource");
  BOOST_TEST(Message(thespian::StatusRequest{}).type_name() == "thespian::StatusRequest");
  BOOST_TEST(Message(thespian::ActorStatus{}).type_name() == "thespian::ActorStatus");
  BOOST_TEST(Message(thespian::SystemStatus{}).type_name() == "thespian::SystemStatus");
}

BOOST_AUTO_TEST_SUITE_END()
