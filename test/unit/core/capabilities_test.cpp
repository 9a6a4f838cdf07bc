// Unit tests of capability values (src/core/capabilities.cpp): which values are truthy (the
// rule for requirements given without a value) and how values print.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

#include "thespian/capabilities.hpp"

namespace {

using thespian::CapabilityValue;
using thespian::is_truthy;
using thespian::to_string;

}  // namespace

BOOST_AUTO_TEST_SUITE(core_capabilities)

BOOST_AUTO_TEST_CASE(true_is_truthy_and_false_is_not) {
  BOOST_TEST(is_truthy(CapabilityValue(true)));
  BOOST_TEST(!is_truthy(CapabilityValue(false)));
}

BOOST_AUTO_TEST_CASE(non_zero_integers_are_truthy_and_zero_is_not) {
  BOOST_TEST(is_truthy(CapabilityValue(std::int64_t{1})));
  BOOST_TEST(is_truthy(CapabilityValue(std::int64_t{-5})));
  BOOST_TEST(is_truthy(CapabilityValue(INT64_MIN)));
  BOOST_TEST(!is_truthy(CapabilityValue(std::int64_t{0})));
}

BOOST_AUTO_TEST_CASE(non_zero_doubles_are_truthy_and_zeros_are_not) {
  BOOST_TEST(is_truthy(CapabilityValue(0.001)));
  BOOST_TEST(is_truthy(CapabilityValue(-2.0)));
  BOOST_TEST(!is_truthy(CapabilityValue(0.0)));
  BOOST_TEST(!is_truthy(CapabilityValue(-0.0)));
}

BOOST_AUTO_TEST_CASE(non_empty_strings_are_truthy_whatever_they_say) {
  BOOST_TEST(is_truthy(CapabilityValue(std::string("yes"))));
  BOOST_TEST(is_truthy(CapabilityValue(std::string("false"))));
  BOOST_TEST(is_truthy(CapabilityValue(std::string("0"))));
  BOOST_TEST(is_truthy(CapabilityValue(std::string(" "))));
  BOOST_TEST(!is_truthy(CapabilityValue(std::string())));
}

BOOST_AUTO_TEST_CASE(string_literal_capability_value_holds_a_string_not_a_bool) {
  const CapabilityValue v = "sm90";
  BOOST_TEST(std::holds_alternative<std::string>(v));
  BOOST_TEST(std::get<std::string>(v) == "sm90");
}

BOOST_AUTO_TEST_CASE(booleans_print_as_true_and_false) {
  BOOST_TEST(to_string(CapabilityValue(true)) == "true");
  BOOST_TEST(to_string(CapabilityValue(false)) == "false");
}

BOOST_AUTO_TEST_CASE(integers_print_in_decimal) {
  BOOST_TEST(to_string(CapabilityValue(std::int64_t{42})) == "42");
  BOOST_TEST(to_string(CapabilityValue(std::int64_t{-7})) == "-7");
  BOOST_TEST(to_string(CapabilityValue(INT64_MAX)) == "9223372036854775807");
}

BOOST_AUTO_TEST_CASE(doubles_print_as_their_number) {
  BOOST_TEST(to_string(CapabilityValue(2.5)) == "2.5");
  BOOST_TEST(to_string(CapabilityValue(-0.125)) == "-0.125");
}

BOOST_AUTO_TEST_CASE(strings_print_as_themselves) {
  BOOST_TEST(to_string(CapabilityValue(std::string("sm90"))) == "sm90");
  BOOST_TEST(to_string(CapabilityValue(std::string())) == "");
}

BOOST_AUTO_TEST_CASE(capabilities_map_finds_names_without_building_a_string) {
  const thespian::Capabilities caps{{"GPU", true}, {"Thread Count", std::int64_t{4}}};
  const std::string_view name = "Thread Count";
  auto it = caps.find(name);  // heterogeneous lookup through std::less<>
  BOOST_REQUIRE(it != caps.end());
  BOOST_TEST(std::get<std::int64_t>(it->second) == 4);
}

BOOST_AUTO_TEST_SUITE_END()
