// Port of Thespian's capability requirement tests: actor types declare what they need (a truthy
// capability, an exact value, or a static actor_system_capability_check); create_actor places
// them only on a system that qualifies and otherwise throws NoCompatibleSystemForActor naming the
// type and the unmet requirement.
#include <cstdint>
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace require_capability_test {

using thespian::ActorAddress;
using thespian::Capabilities;
using thespian::CapabilityValue;
using thespian::Message;
using thespian::Requirements;
using thespian_test::is_text;

class GpuWorker : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "ping")) send(from, std::string("gpu pong"));
    co_return;
  }
};

class ArchWorker : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "ping")) send(from, std::string("arch pong"));
    co_return;
  }
};

// Decides by itself: the "Color" requirement must equal the system's "Color".
class Painter : public thespian::Actor {
 public:
  static bool actor_system_capability_check(const Capabilities& system,
                                            const Requirements& requirements) {
    auto wanted = requirements.find("Color");
    if (wanted == requirements.end()) return true;
    auto have = system.find("Color");
    return have != system.end() && have->second == wanted->second;
  }
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "ping")) send(from, std::string("painter pong"));
    co_return;
  }
};

// Accepts a system only when its check is shown exactly what the test passes: the system's
// "Color" (blue) and common capabilities, and the requirement "Size" = 3. Whether a create
// succeeds is what the test observes (the check may run in another process).
class Inspected : public thespian::Actor {
 public:
  static bool actor_system_capability_check(const Capabilities& system,
                                            const Requirements& requirements) {
    auto color = system.find("Color");
    auto size = requirements.find("Size");
    return color != system.end() && color->second == CapabilityValue(std::string("blue")) &&
           system.count("Thespian Version") == 1u && size != requirements.end() &&
           size->second == CapabilityValue(std::int64_t{3});
  }
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "ping")) send(from, std::string("inspected pong"));
    co_return;
  }
};

// Tries to create a GpuWorker from inside and reports the outcome.
class Recruiter : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (is_text(m, "recruit")) {
      try {
        (void)create_actor<GpuWorker>();
        send(from, std::string("recruited"));
      } catch (const thespian::NoCompatibleSystemForActor& e) {
        send(from, std::string("refused: ") + e.what());
      }
    }
    co_return;
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Whether a GpuWorker can be created on a system whose "GPU" capability is `value`.
bool gpu_worker_accepted_with(const CapabilityValue& value) {
  thespian::ActorSystem sys(thespian_test::current_base(), thespian_test::system_caps({{"GPU", value}}));
  bool accepted = false;
  try {
    auto worker = sys.create_actor<GpuWorker>();
    accepted = thespian_test::is_text(sys.ask(worker, "ping", thespian_test::patience), "gpu pong");
  } catch (const thespian::NoCompatibleSystemForActor&) {
    accepted = false;
  }
  sys.shutdown();
  return accepted;
}

}  // namespace require_capability_test

THESPIAN_ACTOR_REQUIRES(require_capability_test::GpuWorker, "GPU");
THESPIAN_ACTOR_REQUIRES(require_capability_test::ArchWorker, "Arch", "sm90");

using namespace require_capability_test;
using thespian_test::current_base;
using thespian_test::patience;
using thespian_test::text_of;

BOOST_FIXTURE_TEST_SUITE(require_capability, thespian_test::system_fixture)

BOOST_AUTO_TEST_CASE(actor_requiring_a_capability_is_created_where_it_is_truthy) {
  thespian::ActorSystem gpu_sys(current_base(), thespian_test::system_caps({{"GPU", true}}));
  auto worker = gpu_sys.create_actor<GpuWorker>();
  BOOST_TEST(text_of(gpu_sys.ask(worker, "ping", patience)) == "gpu pong");
  gpu_sys.shutdown();
}

BOOST_AUTO_TEST_CASE(actor_requiring_an_absent_capability_throws_no_compatible_system_naming_type_and_requirement) {
  try {
    (void)sys.create_actor<GpuWorker>();
    BOOST_ERROR("create_actor<GpuWorker> succeeded on a system without GPU");
  } catch (const thespian::NoCompatibleSystemForActor& e) {
    BOOST_TEST(contains(e.what(), "GpuWorker"), e.what());
    BOOST_TEST(contains(e.what(), "GPU"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(true_non_zero_numbers_and_non_empty_strings_are_truthy) {
  BOOST_TEST(gpu_worker_accepted_with(true));
  BOOST_TEST(gpu_worker_accepted_with(std::int64_t{1}));
  BOOST_TEST(gpu_worker_accepted_with(std::int64_t{-3}));
  BOOST_TEST(gpu_worker_accepted_with(0.5));
  BOOST_TEST(gpu_worker_accepted_with(std::string("yes")));
}

BOOST_AUTO_TEST_CASE(false_zero_and_empty_strings_are_not_truthy) {
  BOOST_TEST(!gpu_worker_accepted_with(false));
  BOOST_TEST(!gpu_worker_accepted_with(std::int64_t{0}));
  BOOST_TEST(!gpu_worker_accepted_with(0.0));
  BOOST_TEST(!gpu_worker_accepted_with(std::string("")));
}

BOOST_AUTO_TEST_CASE(requirement_with_a_value_needs_exactly_that_value) {
  thespian::ActorSystem right(current_base(), thespian_test::system_caps({{"Arch", std::string("sm90")}}));
  auto worker = right.create_actor<ArchWorker>();
  BOOST_TEST(text_of(right.ask(worker, "ping", patience)) == "arch pong");
  right.shutdown();

  thespian::ActorSystem wrong(current_base(), thespian_test::system_caps({{"Arch", std::string("sm80")}}));
  try {
    (void)wrong.create_actor<ArchWorker>();
    BOOST_ERROR("create_actor<ArchWorker> succeeded with Arch=sm80");
  } catch (const thespian::NoCompatibleSystemForActor& e) {
    BOOST_TEST(contains(e.what(), "ArchWorker"), e.what());
    BOOST_TEST(contains(e.what(), "Arch"), e.what());
  }
  wrong.shutdown();

  BOOST_CHECK_THROW(sys.create_actor<ArchWorker>(), thespian::NoCompatibleSystemForActor);
}

BOOST_AUTO_TEST_CASE(capability_check_function_decides_placement) {
  thespian::ActorSystem blue(current_base(), thespian_test::system_caps({{"Color", std::string("blue")}}));
  auto painter = blue.create_actor<Painter>({{"Color", std::string("blue")}});
  BOOST_TEST(text_of(blue.ask(painter, "ping", patience)) == "painter pong");
  try {
    (void)blue.create_actor<Painter>({{"Color", std::string("red")}});
    BOOST_ERROR("create_actor<Painter> for red succeeded on a blue system");
  } catch (const thespian::NoCompatibleSystemForActor& e) {
    BOOST_TEST(contains(e.what(), "Painter"), e.what());
  }
  blue.shutdown();
}

BOOST_AUTO_TEST_CASE(capability_check_sees_the_system_capabilities_and_the_requirements) {
  thespian::ActorSystem blue(current_base(), thespian_test::system_caps({{"Color", std::string("blue")}}));
  // Accepted: the check saw Color=blue and "Thespian Version" in the system, Size=3 required.
  auto inspected = blue.create_actor<Inspected>({{"Size", std::int64_t{3}}});
  BOOST_TEST(text_of(blue.ask(inspected, "ping", patience)) == "inspected pong");
  // Refused: so the check is consulted, and it sees the requirements of this very call.
  BOOST_CHECK_THROW(blue.create_actor<Inspected>({{"Size", std::int64_t{4}}}),
                    thespian::NoCompatibleSystemForActor);
  blue.shutdown();
  // Refused on a system of another colour: it sees that system's capabilities.
  thespian::ActorSystem red(current_base(), thespian_test::system_caps({{"Color", std::string("red")}}));
  BOOST_CHECK_THROW(red.create_actor<Inspected>({{"Size", std::int64_t{3}}}),
                    thespian::NoCompatibleSystemForActor);
  red.shutdown();
}

BOOST_AUTO_TEST_CASE(create_actor_inside_an_actor_throws_at_once_when_no_system_qualifies) {
  auto recruiter = sys.create_actor<Recruiter>();
  const auto reply = text_of(sys.ask(recruiter, "recruit", patience));
  BOOST_TEST(contains(reply, "refused: "), reply);
  BOOST_TEST(contains(reply, "GPU"), reply);
}

BOOST_AUTO_TEST_CASE(create_actor_inside_an_actor_succeeds_when_the_system_qualifies) {
  thespian::ActorSystem gpu_sys(current_base(), thespian_test::system_caps({{"GPU", true}}));
  auto recruiter = gpu_sys.create_actor<Recruiter>();
  BOOST_TEST(text_of(gpu_sys.ask(recruiter, "recruit", patience)) == "recruited");
  gpu_sys.shutdown();
}

BOOST_AUTO_TEST_SUITE_END()
