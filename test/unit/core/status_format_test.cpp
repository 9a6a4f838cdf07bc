// Unit tests of ActorStatus::format and SystemStatus::format (src/core/status_format.cpp): the
// human-readable text shows every field of the status, on several lines.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>

#include "../support.hpp"
#include "thespian/system_messages.hpp"

namespace {

using thespian::ActorAddress;
using unit_support::contains;
using unit_support::make_recording_endpoint;

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_status_format)

BOOST_AUTO_TEST_CASE(actor_status_format_shows_every_field) {
  auto self = make_recording_endpoint();
  auto parent = make_recording_endpoint();
  auto child_a = make_recording_endpoint();
  auto child_b = make_recording_endpoint();
  thespian::ActorStatus s;
  s.address = ActorAddress(self);
  s.type_name = "status_format_test::Worker";
  s.parent = ActorAddress(parent);
  s.children = {ActorAddress(child_a), ActorAddress(child_b)};
  s.pending_messages = 7301;
  s.pending_wakeups = 7402;
  s.received = 7503;
  s.sent = 7604;
  const std::string text = s.format();
  BOOST_TEST(contains(text, s.address.to_string()), text);
  BOOST_TEST(contains(text, "status_format_test::Worker"), text);
  BOOST_TEST(contains(text, s.parent.to_string()), text);
  BOOST_TEST(contains(text, s.children[0].to_string()), text);
  BOOST_TEST(contains(text, s.children[1].to_string()), text);
  BOOST_TEST(contains(text, "7301"), text);
  BOOST_TEST(contains(text, "7402"), text);
  BOOST_TEST(contains(text, "7503"), text);
  BOOST_TEST(contains(text, "7604"), text);
  BOOST_TEST(line_count(text) >= 2u, text);
}

BOOST_AUTO_TEST_CASE(actor_status_format_of_a_default_status_is_printable_lines) {
  const std::string text = thespian::ActorStatus{}.format();
  BOOST_TEST(line_count(text) >= 2u, text);
  std::string without_newlines = text;
  std::erase(without_newlines, '\n');
  BOOST_TEST(unit_support::is_printable(without_newlines), text);
}

BOOST_AUTO_TEST_CASE(system_status_format_shows_every_field) {
  auto named = make_recording_endpoint();
  auto handler = make_recording_endpoint();
  auto authority = make_recording_endpoint();
  thespian::SystemStatus s;
  s.admin_address = "local:8801";
  s.base = "multithreadBase";
  s.capabilities = {{"Thread Count", std::int64_t{424242}},
                    {"Arch", std::string("sm90-distinct")},
                    {"Ratio", 2.5},
                    {"GPU Present", true}};
  s.convention_leader = "10.1.2.3:1900";
  s.convention_members = {"10.1.2.4:1900", "10.1.2.5:1900"};
  s.global_names = {{"the-registrar", ActorAddress(named)}};
  s.dead_letter_handler = ActorAddress(handler);
  s.source_authority = ActorAddress(authority);
  s.loaded_sources = {"feedc0de"};
  s.actor_count = 8899;
  const std::string text = s.format();
  for (const std::string& expected :
       {std::string("local:8801"), std::string("multithreadBase"), std::string("Thread Count"),
        std::string("424242"), std::string("Arch"), std::string("sm90-distinct"),
        std::string("Ratio"), std::string("2.5"), std::string("GPU Present"),
        std::string("true"), std::string("10.1.2.3:1900"), std::string("10.1.2.4:1900"),
        std::string("10.1.2.5:1900"), std::string("the-registrar"),
        s.global_names.at("the-registrar").to_string(), s.dead_letter_handler.to_string(),
        s.source_authority.to_string(), std::string("feedc0de"), std::string("8899")}) {
    BOOST_TEST(contains(text, expected), "missing '" << expected << "' in:\n" << text);
  }
  BOOST_TEST(line_count(text) >= 2u, text);
}

BOOST_AUTO_TEST_CASE(system_status_format_of_a_default_status_is_printable_lines) {
  const std::string text = thespian::SystemStatus{}.format();
  BOOST_TEST(line_count(text) >= 2u, text);
  std::string without_newlines = text;
  std::erase(without_newlines, '\n');
  BOOST_TEST(unit_support::is_printable(without_newlines), text);
}

BOOST_AUTO_TEST_SUITE_END()
