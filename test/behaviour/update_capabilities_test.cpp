// Port of Thespian's update capabilities tests: update_capability changes the local system's
// capabilities (nullopt removes one) and re-checks every actor there: those that no longer qualify
// get ActorExitRequest, setting the same value is a no-op. Also the common capabilities every
// system reports.
#include <cstdint>
#include <optional>
#include <string>

#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/variant.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace update_capabilities_test {

using thespian::ActorAddress;
using thespian::Capabilities;
using thespian::CapabilityValue;
using thespian::Message;
using thespian::Requirements;
using thespian_test::is_text;

struct SetCapability {
  std::string name;
  std::optional<CapabilityValue> value;
  template <class A> void serialize(A& ar) { ar(name, value); }
};

// Reports its exit request to whoever asked it to "watch"; answers questions about the system.
class Watchful : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "watch")) {
      reporter_ = from;
      send(from, std::string("watching"));
    } else if (is_text(m, "ping")) {
      send(from, std::string("pong"));
    } else if (is_text(m, "capabilities?")) {
      send(from, system_capabilities());
    } else if (const auto* set = m.get<SetCapability>()) {
      update_capability(set->name, set->value);
      send(from, std::string("updated"));
    } else if (m.is<thespian::ActorExitRequest>() && reporter_) {
      send(reporter_, std::string("asked to exit"));
    }
    co_return;
  }

 private:
  ActorAddress reporter_;
};

class GpuJob : public Watchful {};

class Tinted : public Watchful {
 public:
  static bool actor_system_capability_check(const Capabilities& system,
                                            const Requirements& requirements) {
    auto wanted = requirements.find("Color");
    if (wanted == requirements.end()) return true;
    auto have = system.find("Color");
    return have != system.end() && have->second == wanted->second;
  }
};

}  // namespace update_capabilities_test

THESPIAN_MESSAGE(update_capabilities_test::SetCapability);

THESPIAN_ACTOR_REQUIRES(update_capabilities_test::GpuJob, "GPU");

using namespace update_capabilities_test;
using thespian_test::brief;
using thespian_test::current_base;
using thespian_test::patience;
using thespian_test::reply_as;
using thespian_test::text_of;

namespace {

struct gpu_fixture {
  thespian::ActorSystem sys{current_base(), thespian_test::system_caps({{"GPU", true}})};
  ~gpu_fixture() {
    try {
      sys.shutdown();
    } catch (const std::exception& e) {
      BOOST_ERROR("ActorSystem::shutdown() threw: " << e.what());
    }
  }
};

// A watched actor: its exit request will be reported to `reporter`.
template <class A>
ActorAddress watched(thespian::ExternalContext& reporter, Requirements req = {}) {
  auto actor = reporter.create_actor<A>(std::move(req));
  BOOST_REQUIRE(text_of(reporter.ask(actor, "watch", patience)) == "watching");
  return actor;
}

bool has(const Capabilities& caps, const std::string& name, const CapabilityValue& value) {
  auto it = caps.find(name);
  return it != caps.end() && it->second == value;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(update_capabilities, gpu_fixture)

BOOST_AUTO_TEST_CASE(update_capability_is_reflected_in_capabilities_at_once) {
  sys.update_capability("Mood", std::string("cheerful"));
  BOOST_TEST(has(sys.capabilities(), "Mood", std::string("cheerful")));
  sys.update_capability("Mood", std::string("grumpy"));
  BOOST_TEST(has(sys.capabilities(), "Mood", std::string("grumpy")));
}

BOOST_AUTO_TEST_CASE(update_capability_with_nullopt_removes_it) {
  sys.update_capability("Mood", std::string("cheerful"));
  BOOST_REQUIRE(sys.capabilities().count("Mood") == 1u);
  sys.update_capability("Mood", std::nullopt);
  BOOST_TEST(sys.capabilities().count("Mood") == 0u);
}

BOOST_AUTO_TEST_CASE(actor_that_no_longer_qualifies_gets_actor_exit_request) {
  auto ctx = sys.private_context();
  auto job = watched<GpuJob>(ctx);
  sys.update_capability("GPU", false);
  BOOST_TEST(text_of(ctx.listen(patience)) == "asked to exit");
  BOOST_TEST(!ctx.ask(job, "ping", brief).has_value());
}

BOOST_AUTO_TEST_CASE(removing_a_required_capability_asks_the_actor_to_exit) {
  auto ctx = sys.private_context();
  (void)watched<GpuJob>(ctx);
  sys.update_capability("GPU", std::nullopt);
  BOOST_TEST(text_of(ctx.listen(patience)) == "asked to exit");
}

BOOST_AUTO_TEST_CASE(actors_that_still_qualify_are_left_alone) {
  auto job_ctx = sys.private_context();
  auto bystander_ctx = sys.private_context();
  auto job = watched<GpuJob>(job_ctx);
  auto bystander = watched<Watchful>(bystander_ctx);
  sys.update_capability("Mood", std::string("calm"));
  sys.update_capability("GPU", std::int64_t{2});  // still truthy
  BOOST_TEST(!job_ctx.listen(brief).has_value());
  BOOST_TEST(text_of(job_ctx.ask(job, "ping", patience)) == "pong");
  sys.update_capability("GPU", false);
  BOOST_TEST(text_of(job_ctx.listen(patience)) == "asked to exit");
  BOOST_TEST(!bystander_ctx.listen(brief).has_value());
  BOOST_TEST(text_of(bystander_ctx.ask(bystander, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(setting_the_same_value_is_a_no_op) {
  auto ctx = sys.private_context();
  auto job = watched<GpuJob>(ctx);
  const auto before = sys.capabilities();
  sys.update_capability("GPU", true);
  BOOST_CHECK(sys.capabilities() == before);
  BOOST_TEST(!ctx.listen(brief).has_value());
  BOOST_TEST(text_of(ctx.ask(job, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(actor_placed_by_a_check_function_is_rechecked) {
  sys.update_capability("Color", std::string("blue"));
  auto ctx = sys.private_context();
  (void)watched<Tinted>(ctx, {{"Color", std::string("blue")}});
  sys.update_capability("Color", std::string("red"));
  BOOST_TEST(text_of(ctx.listen(patience)) == "asked to exit");
}

BOOST_AUTO_TEST_CASE(placement_uses_the_updated_capabilities) {
  sys.update_capability("GPU", std::nullopt);
  BOOST_CHECK_THROW(sys.create_actor<GpuJob>(), thespian::NoCompatibleSystemForActor);
  sys.update_capability("GPU", true);
  auto job = sys.create_actor<GpuJob>();
  BOOST_TEST(text_of(sys.ask(job, "ping", patience)) == "pong");
}

BOOST_AUTO_TEST_CASE(actor_can_update_the_system_capabilities) {
  auto actor = sys.create_actor<Watchful>();
  BOOST_REQUIRE(text_of(sys.ask(actor, SetCapability{"Mood", std::string("sunny")}, patience)) ==
                "updated");
  BOOST_TEST(thespian_test::wait_until(
      sys, [&] { return has(sys.capabilities(), "Mood", std::string("sunny")); }));
}

BOOST_AUTO_TEST_CASE(actor_update_that_disqualifies_another_actor_asks_it_to_exit) {
  auto ctx = sys.private_context();
  (void)watched<GpuJob>(ctx);
  auto changer = sys.create_actor<Watchful>();
  BOOST_REQUIRE(text_of(sys.ask(changer, SetCapability{"GPU", false}, patience)) == "updated");
  BOOST_TEST(text_of(ctx.listen(patience)) == "asked to exit");
}

BOOST_AUTO_TEST_CASE(actors_see_the_updated_capabilities) {
  auto actor = sys.create_actor<Watchful>();
  sys.update_capability("Mood", std::string("pensive"));
  auto ctx = sys.private_context();
  BOOST_TEST(thespian_test::wait_until(sys, [&] {
    return has(reply_as<Capabilities>(ctx.ask(actor, "capabilities?", patience)), "Mood",
               std::string("pensive"));
  }));
}

BOOST_AUTO_TEST_CASE(every_system_reports_the_common_capabilities) {
  const auto caps = sys.capabilities();
  for (const char* name : {"Thespian Generation", "Thespian Version", "Thespian ActorSystem Name",
                           "Thespian ActorSystem Version", "Thespian Watch Supported",
                           "C++ Standard"}) {
    BOOST_TEST(caps.count(name) == 1u, "missing capability " << name);
  }
}

BOOST_AUTO_TEST_CASE(actor_system_name_capability_is_the_base_name) {
  const auto caps = sys.capabilities();
  BOOST_REQUIRE(caps.count("Thespian ActorSystem Name") == 1u);
  BOOST_TEST(thespian::to_string(caps.at("Thespian ActorSystem Name")) == current_base());
  BOOST_REQUIRE(caps.count("Thespian Watch Supported") == 1u);
  BOOST_TEST(std::holds_alternative<bool>(caps.at("Thespian Watch Supported")));
}

BOOST_AUTO_TEST_SUITE_END()
