// Unit tests of the actor type registry (src/core/actor_registry.cpp): lookup by the name
// THESPIAN_ACTOR registers, type names, and the placement rule (THESPIAN_ACTOR_REQUIRES and
// actor_system_capability_check) with its sentence naming the unmet requirement.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

#include <asio/awaitable.hpp>

#include "core/actor_registry.hpp"
#include "../support.hpp"
#include "thespian/actor.hpp"

namespace actor_registry_test {

class Plain : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

class Unnamed : public Plain {};

class NeedsGpu : public Plain {};
class NeedsArch : public Plain {};
class NeedsCores : public Plain {};
class NeedsBoth : public Plain {};

// Accepts a system when the requirement "Color", if given, equals the system's "Color".
class Checked : public Plain {
 public:
  static inline thespian::Capabilities last_system;
  static inline thespian::Requirements last_requirements;
  static inline int calls = 0;
  static bool actor_system_capability_check(const thespian::Capabilities& system,
                                            const thespian::Requirements& requirements) {
    ++calls;
    last_system = system;
    last_requirements = requirements;
    auto want = requirements.find("Color");
    if (want == requirements.end()) return true;
    auto have = system.find("Color");
    return have != system.end() && have->second == want->second;
  }
};

class NeedsZero : public Plain {};

// A declared requirement and a check together: both must pass.
class GpuAndChecked : public Checked {};

}  // namespace actor_registry_test

THESPIAN_ACTOR(actor_registry_test::Plain);
THESPIAN_ACTOR(actor_registry_test::NeedsGpu);
THESPIAN_ACTOR_REQUIRES(actor_registry_test::NeedsGpu, "GPU");
THESPIAN_ACTOR_REQUIRES(actor_registry_test::NeedsArch, "Arch", "sm90");
THESPIAN_ACTOR_REQUIRES(actor_registry_test::NeedsCores, "Cores", std::int64_t{4});
THESPIAN_ACTOR_REQUIRES(actor_registry_test::NeedsBoth, "GPU");
THESPIAN_ACTOR_REQUIRES(actor_registry_test::NeedsBoth, "Arch", "sm90");
THESPIAN_ACTOR_REQUIRES(actor_registry_test::GpuAndChecked, "GPU");
THESPIAN_ACTOR_REQUIRES(actor_registry_test::NeedsZero, "Count", 0);

namespace {

using thespian::Capabilities;
using thespian::Requirements;
using thespian::detail::actor_type_of;
using thespian::detail::unmet_requirement;
using unit_support::contains;

template <class A>
std::optional<std::string> unmet(const Capabilities& caps, const Requirements& req = {}) {
  return unmet_requirement(actor_type_of<A>(), caps, req);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_actor_registry)

// ------------------------------------------------------------------ names

BOOST_AUTO_TEST_CASE(find_actor_type_returns_the_type_registered_under_the_name) {
  const auto* type = thespian::detail::find_actor_type("actor_registry_test::Plain");
  BOOST_REQUIRE(type != nullptr);
  BOOST_TEST(type == &actor_type_of<actor_registry_test::Plain>());
  BOOST_TEST((*type->type == typeid(actor_registry_test::Plain)));
}

BOOST_AUTO_TEST_CASE(registered_type_makes_instances_of_itself) {
  const auto* type = thespian::detail::find_actor_type("actor_registry_test::Plain");
  BOOST_REQUIRE(type != nullptr);
  std::unique_ptr<thespian::Actor> actor = type->make();
  BOOST_REQUIRE(actor != nullptr);
  BOOST_TEST((typeid(*actor) == typeid(actor_registry_test::Plain)));
}

BOOST_AUTO_TEST_CASE(find_actor_type_returns_nullptr_for_an_unknown_name) {
  BOOST_TEST(thespian::detail::find_actor_type("actor_registry_test::NoSuchActor") == nullptr);
  BOOST_TEST(thespian::detail::find_actor_type("") == nullptr);
}

BOOST_AUTO_TEST_CASE(find_actor_type_matches_the_exact_name_only) {
  BOOST_TEST(thespian::detail::find_actor_type("Plain") == nullptr);
  BOOST_TEST(thespian::detail::find_actor_type("actor_registry_test::plain") == nullptr);
  BOOST_TEST(thespian::detail::find_actor_type("actor_registry_test::Plain ") == nullptr);
  BOOST_TEST(thespian::detail::find_actor_type("actor_registry_test::Unnamed") == nullptr);
}

BOOST_AUTO_TEST_CASE(actor_type_name_of_a_registered_type_is_the_macro_text) {
  BOOST_TEST(thespian::detail::actor_type_name(actor_type_of<actor_registry_test::Plain>()) ==
             "actor_registry_test::Plain");
}

BOOST_AUTO_TEST_CASE(actor_type_name_of_an_unregistered_type_is_its_demangled_name) {
  BOOST_TEST(thespian::detail::actor_type_name(actor_type_of<actor_registry_test::Unnamed>()) ==
             "actor_registry_test::Unnamed");
}

BOOST_AUTO_TEST_CASE(actor_type_records_a_capability_check_only_when_the_type_declares_one) {
  BOOST_TEST(actor_type_of<actor_registry_test::Plain>().check == nullptr);
  BOOST_TEST(actor_type_of<actor_registry_test::Checked>().check != nullptr);
}

// ------------------------------------------------------------------ placement

BOOST_AUTO_TEST_CASE(type_without_requirements_fits_any_system) {
  BOOST_TEST(!unmet<actor_registry_test::Plain>({}).has_value());
  BOOST_TEST(!unmet<actor_registry_test::Plain>({{"GPU", false}}, {{"Anything", true}}).has_value());
}

BOOST_AUTO_TEST_CASE(truthy_requirement_is_unmet_when_the_capability_is_missing_and_names_it) {
  const auto why = unmet<actor_registry_test::NeedsGpu>({{"CPU", true}});
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(contains(*why, "GPU"), *why);
}

BOOST_AUTO_TEST_CASE(truthy_requirement_is_unmet_by_falsy_values) {
  BOOST_TEST(unmet<actor_registry_test::NeedsGpu>({{"GPU", false}}).has_value());
  BOOST_TEST(unmet<actor_registry_test::NeedsGpu>({{"GPU", std::int64_t{0}}}).has_value());
  BOOST_TEST(unmet<actor_registry_test::NeedsGpu>({{"GPU", 0.0}}).has_value());
  BOOST_TEST(unmet<actor_registry_test::NeedsGpu>({{"GPU", std::string()}}).has_value());
}

BOOST_AUTO_TEST_CASE(truthy_requirement_is_met_by_truthy_values) {
  BOOST_TEST(!unmet<actor_registry_test::NeedsGpu>({{"GPU", true}}).has_value());
  BOOST_TEST(!unmet<actor_registry_test::NeedsGpu>({{"GPU", std::int64_t{2}}}).has_value());
  BOOST_TEST(!unmet<actor_registry_test::NeedsGpu>({{"GPU", 0.5}}).has_value());
  BOOST_TEST(!unmet<actor_registry_test::NeedsGpu>({{"GPU", std::string("A100")}}).has_value());
}

BOOST_AUTO_TEST_CASE(equal_requirement_is_met_only_by_the_same_value) {
  BOOST_TEST(!unmet<actor_registry_test::NeedsArch>({{"Arch", std::string("sm90")}}).has_value());
  BOOST_TEST(unmet<actor_registry_test::NeedsArch>({{"Arch", std::string("sm80")}}).has_value());
  BOOST_TEST(unmet<actor_registry_test::NeedsArch>({{"Arch", true}}).has_value());
  BOOST_TEST(unmet<actor_registry_test::NeedsArch>({}).has_value());
}

BOOST_AUTO_TEST_CASE(unmet_equal_requirement_names_the_capability_and_the_wanted_value) {
  const auto why = unmet<actor_registry_test::NeedsArch>({{"Arch", std::string("sm80")}});
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(contains(*why, "Arch"), *why);
  BOOST_TEST(contains(*why, "sm90"), *why);
}

BOOST_AUTO_TEST_CASE(equal_requirement_with_a_number_compares_the_number) {
  BOOST_TEST(!unmet<actor_registry_test::NeedsCores>({{"Cores", std::int64_t{4}}}).has_value());
  const auto why = unmet<actor_registry_test::NeedsCores>({{"Cores", std::int64_t{8}}});
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(contains(*why, "Cores"), *why);
  BOOST_TEST(contains(*why, "4"), *why);
}

BOOST_AUTO_TEST_CASE(every_declared_requirement_must_hold_and_the_unmet_one_is_named) {
  BOOST_TEST(!unmet<actor_registry_test::NeedsBoth>({{"GPU", true}, {"Arch", std::string("sm90")}})
                  .has_value());
  const auto why =
      unmet<actor_registry_test::NeedsBoth>({{"GPU", true}, {"Arch", std::string("sm70")}});
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(contains(*why, "Arch"), *why);
  const auto why_gpu =
      unmet<actor_registry_test::NeedsBoth>({{"GPU", false}, {"Arch", std::string("sm90")}});
  BOOST_REQUIRE(why_gpu.has_value());
  BOOST_TEST(contains(*why_gpu, "GPU"), *why_gpu);
}

BOOST_AUTO_TEST_CASE(capability_check_sees_the_system_capabilities_and_the_requirements) {
  const Capabilities caps{{"Color", std::string("blue")}, {"Size", std::int64_t{3}}};
  const Requirements req{{"Color", std::string("blue")}};
  actor_registry_test::Checked::calls = 0;
  BOOST_TEST(!unmet<actor_registry_test::Checked>(caps, req).has_value());
  BOOST_TEST(actor_registry_test::Checked::calls == 1);
  BOOST_TEST((actor_registry_test::Checked::last_system == caps));
  BOOST_TEST((actor_registry_test::Checked::last_requirements == req));
}

BOOST_AUTO_TEST_CASE(capability_check_rejection_names_the_check_and_the_requirements) {
  const auto why = unmet<actor_registry_test::Checked>({{"Color", std::string("blue")}},
                                                      {{"Color", std::string("red")}});
  BOOST_REQUIRE(why.has_value());
  BOOST_TEST(contains(*why, "actor_system_capability_check"), *why);
  BOOST_TEST(contains(*why, "Color"), *why);
  BOOST_TEST(contains(*why, "red"), *why);
}

BOOST_AUTO_TEST_CASE(declared_requirement_and_capability_check_must_both_pass) {
  const Requirements red{{"Color", std::string("red")}};
  BOOST_TEST(!unmet<actor_registry_test::GpuAndChecked>(
                  {{"GPU", true}, {"Color", std::string("red")}}, red)
                  .has_value());
  const auto no_gpu = unmet<actor_registry_test::GpuAndChecked>(
      {{"GPU", false}, {"Color", std::string("red")}}, red);
  BOOST_REQUIRE(no_gpu.has_value());
  BOOST_TEST(contains(*no_gpu, "GPU"), *no_gpu);
  const auto wrong_color = unmet<actor_registry_test::GpuAndChecked>(
      {{"GPU", true}, {"Color", std::string("blue")}}, red);
  BOOST_REQUIRE(wrong_color.has_value());
  BOOST_TEST(contains(*wrong_color, "actor_system_capability_check"), *wrong_color);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_literal_zero_requirement_is_the_integer_zero_not_a_null_string) {
  const auto& type = thespian::detail::actor_type_of<actor_registry_test::NeedsZero>();
  BOOST_TEST(!thespian::detail::unmet_requirement(
                  type, thespian::Capabilities{{"Count", std::int64_t{0}}}, {})
                  .has_value());
  auto unmet = thespian::detail::unmet_requirement(
      type, thespian::Capabilities{{"Count", std::int64_t{1}}}, {});
  BOOST_REQUIRE(unmet.has_value());
  BOOST_TEST(unmet->find("'Count' = '0'") != std::string::npos);
}
