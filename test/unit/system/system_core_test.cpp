// Unit tests of system_core (src/system/system_core.cpp): base selection and its startup
// failures, the capabilities a system starts with and how they change, actor creation and its
// errors, dead letters, correlated asks from outside, status, and the idempotent shutdown.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include <asio/awaitable.hpp>

#include "../support.hpp"
#include "core/actor_cell.hpp"
#include "core/cell_block.hpp"
#include "system/external_endpoint.hpp"
#include "system/system_core.hpp"
#include "thespian/actor_system.hpp"
#include "thespian/errors.hpp"

namespace system_core_test {

class Quiet : public thespian::Actor {
 public:
  asio::awaitable<void> receive(thespian::Message, thespian::ActorAddress) override { co_return; }
};

class NeedsFpga : public Quiet {};

class ThrowsInConstructor : public Quiet {
 public:
  ThrowsInConstructor() { throw std::runtime_error("constructor-failure-7731"); }
};

// Where each actor of these types was constructed.
inline std::atomic<const void*> last_placed{nullptr};

class Placed : public Quiet {
 public:
  Placed() { last_placed = this; }
  ~Placed() override { ++destroyed; }
  inline static std::atomic<int> destroyed{0};
};

class alignas(64) OverAligned : public Quiet {
 public:
  OverAligned() { last_placed = this; }
};

}  // namespace system_core_test

THESPIAN_ACTOR(system_core_test::Quiet);
THESPIAN_ACTOR(system_core_test::NeedsFpga);
THESPIAN_ACTOR_REQUIRES(system_core_test::NeedsFpga, "FPGA");

namespace {

using namespace std::chrono_literals;
using thespian::ActorAddress;
using thespian::Capabilities;
using thespian::CapabilityValue;
using thespian::Message;
using thespian::SystemOptions;
using thespian::detail::actor_type_of;
using thespian::detail::envelope;
using thespian::detail::envelope_kind;
using thespian::detail::system_core;
using unit_support::contains;
using unit_support::make_recording_endpoint;

// Logs of every system a test makes go to a directory of the test's own.
struct core_fixture {
  unit_support::temp_dir dir;

  SystemOptions options() const {
    SystemOptions o;
    o.log_file = (dir / "thespian.log").string();
    o.log_threshold = "CRITICAL";
    return o;
  }
  std::shared_ptr<system_core> make_core(std::string_view base = "simpleSystemBase",
                                         Capabilities caps = {}) const {
    return std::make_shared<system_core>(base, std::move(caps), options());
  }
};

// What an ask_callback was called with, and how often.
struct ask_outcome {
  std::mutex mutex;
  int calls = 0;
  std::exception_ptr error;
  std::optional<Message> reply;
  std::promise<void> done;

  thespian::detail::ask_callback callback() {
    return [this](std::exception_ptr e, std::optional<Message> r) {
      {
        std::lock_guard lock(mutex);
        if (++calls > 1) return;
        error = e;
        reply = std::move(r);
      }
      done.set_value();
    };
  }
  template <class E>
  bool failed_with() {
    if (!error) return false;
    try {
      std::rethrow_exception(error);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  }
};

std::optional<std::int64_t> int_capability(const Capabilities& caps, std::string_view name) {
  auto it = caps.find(name);
  if (it == caps.end()) return std::nullopt;
  if (const auto* n = std::get_if<std::int64_t>(&it->second)) return *n;
  return std::nullopt;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(system_core_unit, core_fixture)

// ------------------------------------------------------------------ bases

BOOST_AUTO_TEST_CASE(unknown_base_throws_startup_failure_naming_the_base) {
  try {
    (void)make_core("noSuchSystemBase");
    BOOST_FAIL("an unknown base was accepted");
  } catch (const thespian::ActorSystemStartupFailure& e) {
    BOOST_TEST(contains(e.what(), "noSuchSystemBase"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(actor_system_with_unknown_base_throws_startup_failure_naming_the_base) {
  try {
    thespian::ActorSystem sys("bogusBase", {}, options());
    BOOST_FAIL("ActorSystem accepted an unknown base");
  } catch (const thespian::ActorSystemStartupFailure& e) {
    BOOST_TEST(contains(e.what(), "bogusBase"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(startup_failure_is_an_actor_system_failure) {
  BOOST_CHECK_THROW((void)make_core("nope"), thespian::ActorSystemFailure);
  BOOST_CHECK_THROW((void)make_core("nope"), thespian::ActorSystemException);
}

BOOST_AUTO_TEST_CASE(both_in_process_bases_start_and_report_their_name) {
  for (const char* base : {"simpleSystemBase", "multithreadBase"}) {
    auto core = make_core(base, {{"Thread Count", std::int64_t{1}}});
    BOOST_TEST(core->base() == base);
    BOOST_TEST(!core->is_shut_down());
  }
}

BOOST_AUTO_TEST_CASE(each_system_has_its_own_id_and_endpoint_ids_increase) {
  auto a = make_core();
  auto b = make_core();
  BOOST_TEST(a->id() != b->id());
  const auto first = a->next_endpoint_id();
  const auto second = a->next_endpoint_id();
  BOOST_TEST(second > first);
}

// ------------------------------------------------------------------ Thread Count

BOOST_AUTO_TEST_CASE(thread_count_capability_sets_the_number_of_threads) {
  auto core = make_core("multithreadBase", {{"Thread Count", std::int64_t{3}}});
  BOOST_TEST(core->driver().thread_count() == 3u);
  BOOST_TEST((int_capability(core->capabilities(), "Thread Count") == std::optional<std::int64_t>(3)));
}

BOOST_AUTO_TEST_CASE(thread_count_defaults_to_a_positive_number_reported_as_a_capability) {
  auto core = make_core("multithreadBase");
  const auto reported = int_capability(core->capabilities(), "Thread Count");
  BOOST_REQUIRE(reported.has_value());
  BOOST_TEST(*reported >= 1);
  BOOST_TEST(core->driver().thread_count() == static_cast<std::size_t>(*reported));
}

BOOST_AUTO_TEST_CASE(thread_count_that_is_not_a_positive_number_fails_startup_naming_it) {
  const CapabilityValue bad_values[] = {std::int64_t{0}, std::int64_t{-2}, 0.5,
                                        std::string("four"), true};
  for (const auto& bad : bad_values) {
    BOOST_TEST_CONTEXT("Thread Count = " << thespian::to_string(bad)) {
      try {
        (void)make_core("multithreadBase", {{"Thread Count", bad}});
        BOOST_ERROR("the system started");
      } catch (const thespian::ActorSystemStartupFailure& e) {
        BOOST_TEST(contains(e.what(), "Thread Count"), e.what());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(simple_base_runs_no_threads_of_its_own) {
  auto core = make_core("simpleSystemBase");
  BOOST_TEST(core->driver().thread_count() == 0u);
}

// ------------------------------------------------------------------ capabilities

BOOST_AUTO_TEST_CASE(default_capabilities_are_present_on_every_base) {
  for (const char* base : {"simpleSystemBase", "multithreadBase"}) {
    BOOST_TEST_CONTEXT(base) {
      auto core = make_core(base, {{"Thread Count", std::int64_t{1}}});
      const Capabilities caps = core->capabilities();
      for (const char* name : {"Thespian Generation", "Thespian Version",
                               "Thespian ActorSystem Name", "Thespian ActorSystem Version",
                               "Thespian Watch Supported"}) {
        BOOST_TEST(caps.contains(name), "missing capability " << name);
      }
      BOOST_TEST((caps.at("Thespian ActorSystem Name") == CapabilityValue(std::string(base))));
      BOOST_TEST((caps.at("Thespian Watch Supported") == CapabilityValue(false)));
    }
  }
}

BOOST_AUTO_TEST_CASE(given_capabilities_are_added_to_the_defaults) {
  auto core = make_core("simpleSystemBase", {{"GPU", true}, {"Region", std::string("eu")}});
  const Capabilities caps = core->capabilities();
  BOOST_TEST((caps.at("GPU") == CapabilityValue(true)));
  BOOST_TEST((caps.at("Region") == CapabilityValue(std::string("eu"))));
  BOOST_TEST(caps.contains("Thespian Version"));
}

BOOST_AUTO_TEST_CASE(update_capability_adds_changes_and_removes) {
  auto core = make_core();
  core->update_capability("Colour", CapabilityValue(std::string("red")));
  BOOST_TEST((core->capabilities().at("Colour") == CapabilityValue(std::string("red"))));
  core->update_capability("Colour", CapabilityValue(std::string("blue")));
  BOOST_TEST((core->capabilities().at("Colour") == CapabilityValue(std::string("blue"))));
  core->update_capability("Colour", std::nullopt);
  BOOST_TEST(!core->capabilities().contains("Colour"));
}

BOOST_AUTO_TEST_CASE(update_capability_with_the_same_value_is_a_no_op) {
  auto core = make_core("simpleSystemBase", {{"GPU", true}});
  const auto before = core->capabilities_generation();
  core->update_capability("GPU", CapabilityValue(true));
  BOOST_TEST(core->capabilities_generation() == before);
  core->update_capability("GPU", CapabilityValue(false));
  BOOST_TEST(core->capabilities_generation() != before);
}

BOOST_AUTO_TEST_CASE(removing_an_absent_capability_is_a_no_op) {
  auto core = make_core();
  const auto before = core->capabilities_generation();
  core->update_capability("Never Set", std::nullopt);
  BOOST_TEST(core->capabilities_generation() == before);
}

BOOST_AUTO_TEST_CASE(update_capability_asks_actors_that_no_longer_qualify_to_exit) {
  thespian::ActorSystem sys("simpleSystemBase", {{"FPGA", true}}, options());
  (void)sys.create_actor<system_core_test::NeedsFpga>();
  (void)sys.create_actor<system_core_test::Quiet>();
  BOOST_TEST(sys.status().actor_count == 2u);
  sys.update_capability("FPGA", false);
  BOOST_TEST(sys.status().actor_count == 1u);  // only the actor without requirements is left
}

BOOST_AUTO_TEST_CASE(actor_system_capabilities_reflect_update_capability_at_once) {
  thespian::ActorSystem sys("simpleSystemBase", {}, options());
  sys.update_capability("Answer", std::int64_t{42});
  BOOST_TEST((int_capability(sys.capabilities(), "Answer") == std::optional<std::int64_t>(42)));
  sys.update_capability("Answer", std::nullopt);
  BOOST_TEST(!sys.capabilities().contains("Answer"));
}

// ------------------------------------------------------------------ creating actors

BOOST_AUTO_TEST_CASE(create_actor_by_unknown_name_throws_invalid_specification_naming_it) {
  auto core = make_core();
  try {
    (void)core->create_actor("system_core_test::Missing", {}, {}, {}, nullptr);
    BOOST_FAIL("an unknown actor type name was accepted");
  } catch (const thespian::InvalidActorSpecification& e) {
    BOOST_TEST(contains(e.what(), "system_core_test::Missing"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(create_actor_by_registered_name_makes_a_live_actor) {
  auto core = make_core();
  const ActorAddress a = core->create_actor("system_core_test::Quiet", {}, {}, {}, nullptr);
  BOOST_TEST(static_cast<bool>(a));
  BOOST_TEST(core->actor_count() == 1u);
}

// One allocation per actor: the actor is constructed right behind its cell, in the block that
// also holds the cell's reference counts (cell_block.hpp).
BOOST_AUTO_TEST_CASE(an_actor_is_constructed_in_its_cells_allocation_and_destroyed_at_exit) {
  using thespian::detail::actor_cell;
  auto core = make_core();
  const int destroyed_before = system_core_test::Placed::destroyed.load();
  const ActorAddress a =
      core->create_actor(actor_type_of<system_core_test::Placed>(), {}, {}, nullptr);
  const auto* cell = dynamic_cast<const actor_cell*>(a.endpoint());
  BOOST_REQUIRE(cell != nullptr);
  BOOST_TEST(cell->actor_in_block());
  // As integers: BOOST_TEST compares two char pointers as strings.
  const auto actor = reinterpret_cast<std::uintptr_t>(system_core_test::last_placed.load());
  const auto cell_at = reinterpret_cast<std::uintptr_t>(cell);
  BOOST_TEST(actor >= cell_at + sizeof(actor_cell));
  BOOST_TEST(actor < cell_at + sizeof(actor_cell) + 2 * thespian::detail::kCellBlockAlign);
  BOOST_TEST(actor % thespian::detail::kCellBlockAlign == 0u);
  BOOST_TEST(actor - cell_at == thespian::detail::kActorOffset);
  // The cell gives back the block its type says (pinned in the next case).
  BOOST_TEST(cell->pooled_block_bytes() ==
             thespian::detail::cell_block_bytes(actor_type_of<system_core_test::Placed>()));
  // The actor goes at exit (here: the shutdown's) while `a` still holds the cell, and so the
  // block, alive; the block is freed with the last address (ASan checks both).
  core->shutdown();
  BOOST_TEST(core->actor_count() == 0u);
  BOOST_TEST(system_core_test::Placed::destroyed.load() == destroyed_before + 1);
  BOOST_TEST(a.endpoint() == cell);
}

// An idle actor is mostly its block: this pins its size, so that a later change cannot
// silently regrow it. An actor with no state of its own (Placed) gets the smallest block,
// 200 bytes (glibc's chunk: 208): 8 bytes of counts, the cell, then the actor.
BOOST_AUTO_TEST_CASE(an_actor_without_state_of_its_own_takes_the_200_byte_block) {
  BOOST_TEST(sizeof(thespian::detail::actor_cell) <= 168u);
  BOOST_TEST(thespian::detail::kCellHead <= 176u);
  BOOST_TEST(sizeof(ActorAddress) == sizeof(void*));
  BOOST_TEST(thespian::detail::cell_block_bytes(actor_type_of<system_core_test::Placed>()) ==
             200u);
}

// A larger actor takes the smallest block class its room fits, and one sized to fit beyond
// the largest; a type made elsewhere (over-aligned, or no make_at) gets a block for the cell
// alone. The cell gives its block back by the same rule (pooled_block_bytes).
BOOST_AUTO_TEST_CASE(a_cell_block_is_the_smallest_class_that_fits_the_actor) {
  using thespian::detail::cell_block_bytes;
  using thespian::detail::kCellBlocks;
  using thespian::detail::kCellHead;
  thespian::detail::actor_type type = actor_type_of<system_core_test::Placed>();
  type.size = kCellBlocks[1] - kCellHead;
  BOOST_TEST(cell_block_bytes(type) == kCellBlocks[1]);
  type.size = kCellBlocks[1] - kCellHead + 1;
  BOOST_TEST(cell_block_bytes(type) == kCellBlocks[2]);
  type.size = 5000;
  BOOST_TEST(cell_block_bytes(type) == kCellHead + 5000);
  type.align = 64;
  BOOST_TEST(cell_block_bytes(type) == kCellBlocks[0]);
  type.align = alignof(std::max_align_t);
  type.make_at = nullptr;
  BOOST_TEST(cell_block_bytes(type) == kCellBlocks[0]);
}

// The cell keeps no type name of its own: the registry's, or the one the system gave its own
// actors (a multi-process admin or logger) in the cell's rare part.
BOOST_AUTO_TEST_CASE(an_actor_reports_the_registry_type_name_or_the_one_it_was_hosted_under) {
  using thespian::detail::actor_cell;
  auto core = make_core();
  const ActorAddress created =
      core->create_actor(actor_type_of<system_core_test::Quiet>(), {}, {}, nullptr);
  const std::string custom = "system_core_test.Hosted";
  const ActorAddress hosted = core->host_actor(actor_type_of<system_core_test::Quiet>(), custom,
                                               {}, {}, ActorAddress{}, 987654, false);
  const auto* c = dynamic_cast<const actor_cell*>(created.endpoint());
  const auto* h = dynamic_cast<const actor_cell*>(hosted.endpoint());
  BOOST_REQUIRE(c != nullptr);
  BOOST_REQUIRE(h != nullptr);
  BOOST_TEST(c->type_name() == "system_core_test::Quiet");
  BOOST_TEST(h->type_name() == custom);
}

BOOST_AUTO_TEST_CASE(an_over_aligned_actor_gets_an_allocation_of_its_own) {
  using thespian::detail::actor_cell;
  auto core = make_core();
  const ActorAddress a =
      core->create_actor(actor_type_of<system_core_test::OverAligned>(), {}, {}, nullptr);
  const auto* cell = dynamic_cast<const actor_cell*>(a.endpoint());
  BOOST_REQUIRE(cell != nullptr);
  BOOST_TEST(!cell->actor_in_block());
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(system_core_test::last_placed.load()) % 64 == 0u);
}

BOOST_AUTO_TEST_CASE(create_actor_with_an_unknown_source_hash_throws_naming_the_hash) {
  auto core = make_core();
  try {
    (void)core->create_actor("system_core_test::Quiet", {}, {}, "deadbeef42", nullptr);
    BOOST_FAIL("an unknown source hash was accepted");
  } catch (const thespian::InvalidActorSourceHash& e) {
    BOOST_TEST(contains(e.what(), "deadbeef42"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(create_actor_whose_constructor_throws_names_the_type_and_the_exception) {
  auto core = make_core();
  try {
    (void)core->create_actor(actor_type_of<system_core_test::ThrowsInConstructor>(), {}, {},
                             nullptr);
    BOOST_FAIL("a throwing constructor was not reported");
  } catch (const thespian::InvalidActorSpecification& e) {
    BOOST_TEST(contains(e.what(), "system_core_test::ThrowsInConstructor"), e.what());
    BOOST_TEST(contains(e.what(), "constructor-failure-7731"), e.what());
  }
  BOOST_TEST(core->actor_count() == 0u);
}

BOOST_AUTO_TEST_CASE(create_actor_with_unmet_requirement_throws_naming_type_and_capability) {
  auto core = make_core();
  try {
    (void)core->create_actor(actor_type_of<system_core_test::NeedsFpga>(), {}, {}, nullptr);
    BOOST_FAIL("an actor was placed on a system without its required capability");
  } catch (const thespian::NoCompatibleSystemForActor& e) {
    BOOST_TEST(contains(e.what(), "system_core_test::NeedsFpga"), e.what());
    BOOST_TEST(contains(e.what(), "FPGA"), e.what());
  }
  BOOST_TEST(core->actor_count() == 0u);
}

BOOST_AUTO_TEST_CASE(create_actor_succeeds_once_the_required_capability_is_present) {
  auto core = make_core("simpleSystemBase", {{"FPGA", std::string("xc7")}});
  BOOST_TEST(static_cast<bool>(
      core->create_actor(actor_type_of<system_core_test::NeedsFpga>(), {}, {}, nullptr)));
}

BOOST_AUTO_TEST_CASE(creating_a_global_name_twice_yields_one_actor) {
  auto core = make_core();
  const ActorAddress first =
      core->create_actor(actor_type_of<system_core_test::Quiet>(), {}, "the-one", nullptr);
  const ActorAddress second =
      core->create_actor("system_core_test::NeedsFpga", {}, "the-one", {}, nullptr);
  BOOST_TEST((first == second));
  BOOST_TEST(core->actor_count() == 1u);
  BOOST_TEST((core->status().global_names.at("the-one") == first));
}

// ------------------------------------------------------------------ messaging

BOOST_AUTO_TEST_CASE(send_to_the_null_address_throws_invalid_actor_address) {
  auto core = make_core();
  try {
    core->send(ActorAddress{}, ActorAddress{}, std::string("x"));
    BOOST_FAIL("a send to the null address was accepted");
  } catch (const thespian::InvalidActorAddress& e) {
    BOOST_TEST(contains(e.what(), "null"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(send_delivers_the_message_with_its_sender) {
  auto core = make_core();
  auto from = make_recording_endpoint();
  auto to = make_recording_endpoint();
  core->send(ActorAddress(from), ActorAddress(to), std::string("hello"));
  const auto got = to->received();
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].message.as<std::string>() == "hello");
  BOOST_TEST((got[0].sender == ActorAddress(from)));
  BOOST_TEST(core->dead_letter_count() == 0u);
}

BOOST_AUTO_TEST_CASE(message_refused_by_its_target_is_counted_as_a_dead_letter) {
  auto core = make_core();
  auto gone = make_recording_endpoint();
  gone->refuse();
  core->send(ActorAddress{}, ActorAddress(gone), std::string("lost"));
  BOOST_TEST(core->dead_letter_count() == 1u);
}

BOOST_AUTO_TEST_CASE(dead_letter_handler_receives_a_dead_envelope_with_target_and_message) {
  auto core = make_core();
  auto handler = make_recording_endpoint();
  auto gone = make_recording_endpoint();
  auto from = make_recording_endpoint();
  gone->refuse();
  core->set_dead_letter_handler(ActorAddress(handler), true);
  core->send(ActorAddress(from), ActorAddress(gone), std::string("lost"));
  const auto got = handler->received();
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_REQUIRE(got[0].message.is<thespian::DeadEnvelope>());
  const auto& dead = got[0].message.as<thespian::DeadEnvelope>();
  BOOST_TEST((dead.dead_address == ActorAddress(gone)));
  BOOST_TEST(dead.dead_message.as<std::string>() == "lost");
  BOOST_TEST((got[0].sender == ActorAddress(from)));
}

BOOST_AUTO_TEST_CASE(dead_letter_handler_stops_only_when_the_same_handler_stops) {
  auto core = make_core();
  auto handler = make_recording_endpoint();
  auto other = make_recording_endpoint();
  core->set_dead_letter_handler(ActorAddress(handler), true);
  core->set_dead_letter_handler(ActorAddress(other), false);  // not the handler: no effect
  BOOST_TEST((core->status().dead_letter_handler == ActorAddress(handler)));
  core->set_dead_letter_handler(ActorAddress(handler), false);
  BOOST_TEST(!core->status().dead_letter_handler);
}

BOOST_AUTO_TEST_CASE(undeliverable_dead_envelopes_are_not_wrapped_again) {
  auto core = make_core();
  auto handler = make_recording_endpoint();
  auto gone = make_recording_endpoint();
  gone->refuse();
  core->set_dead_letter_handler(ActorAddress(handler), true);
  const thespian::DeadEnvelope already_dead{ActorAddress(gone), std::string("inner")};
  core->send(ActorAddress{}, ActorAddress(gone), already_dead);
  BOOST_TEST(core->dead_letter_count() == 1u);
  BOOST_TEST(handler->received().empty());
}

BOOST_AUTO_TEST_CASE(a_handler_that_refuses_its_dead_envelope_adds_no_second_dead_letter) {
  auto core = make_core();
  auto handler = make_recording_endpoint();
  auto gone = make_recording_endpoint();
  handler->refuse();
  gone->refuse();
  core->set_dead_letter_handler(ActorAddress(handler), true);
  core->send(ActorAddress{}, ActorAddress(gone), std::string("lost"));
  BOOST_TEST(core->dead_letter_count() == 1u);
}

// ------------------------------------------------------------------ asks from outside

BOOST_AUTO_TEST_CASE(async_ask_completes_with_the_first_reply) {
  auto core = make_core();
  auto target = make_recording_endpoint();
  target->reply_with(std::string("pong"));
  ask_outcome outcome;
  core->start_async_ask(ActorAddress(target), std::string("ping"), 5s, outcome.callback());
  BOOST_REQUIRE(outcome.done.get_future().wait_for(5s) == std::future_status::ready);
  BOOST_TEST(outcome.calls == 1);
  BOOST_TEST(!outcome.error);
  BOOST_REQUIRE(outcome.reply.has_value());
  BOOST_TEST(outcome.reply->as<std::string>() == "pong");
  // The asked endpoint saw the request from a one-shot reply address.
  const auto got = target->received();
  BOOST_REQUIRE(got.size() == 1u);
  BOOST_TEST(got[0].message.as<std::string>() == "ping");
  BOOST_TEST(static_cast<bool>(got[0].sender));
}

BOOST_AUTO_TEST_CASE(async_ask_with_the_largest_timeout_still_completes_with_the_reply) {
  auto core = make_core();
  auto target = make_recording_endpoint();
  target->reply_with(std::string("eventually"));
  ask_outcome outcome;
  core->start_async_ask(ActorAddress(target), std::string("ping"),
                        std::chrono::nanoseconds::max(), outcome.callback());
  BOOST_REQUIRE(outcome.done.get_future().wait_for(5s) == std::future_status::ready);
  BOOST_REQUIRE(outcome.reply.has_value());
  BOOST_TEST(outcome.reply->as<std::string>() == "eventually");
}

BOOST_AUTO_TEST_CASE(async_ask_completes_with_nullopt_at_its_timeout_and_refuses_late_replies) {
  auto core = make_core();
  auto target = make_recording_endpoint();  // never answers
  ask_outcome outcome;
  core->start_async_ask(ActorAddress(target), std::string("ping"), 20ms, outcome.callback());
  BOOST_REQUIRE(outcome.done.get_future().wait_for(5s) == std::future_status::ready);
  BOOST_TEST(!outcome.error);
  BOOST_TEST(!outcome.reply.has_value());
  const auto got = target->received();
  BOOST_REQUIRE(got.size() == 1u);
  envelope late{std::string("late"), ActorAddress{}, envelope_kind::user, 0};
  BOOST_TEST(!got[0].sender.endpoint()->deliver(std::move(late)));
  BOOST_TEST(outcome.calls == 1);
}

BOOST_AUTO_TEST_CASE(async_ask_to_a_target_that_refuses_completes_with_nullopt_at_once) {
  auto core = make_core();
  auto gone = make_recording_endpoint();
  gone->refuse();
  ask_outcome outcome;
  const auto started = std::chrono::steady_clock::now();
  core->start_async_ask(ActorAddress(gone), std::string("ping"), 30s, outcome.callback());
  BOOST_REQUIRE(outcome.done.get_future().wait_for(5s) == std::future_status::ready);
  BOOST_TEST(!outcome.reply.has_value());
  BOOST_TEST(!outcome.error);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
  BOOST_TEST(core->dead_letter_count() == 1u);
}

BOOST_AUTO_TEST_CASE(async_ask_to_the_null_address_fails_with_invalid_actor_address) {
  auto core = make_core();
  ask_outcome outcome;
  core->start_async_ask(ActorAddress{}, std::string("ping"), 1s, outcome.callback());
  BOOST_REQUIRE(outcome.done.get_future().wait_for(5s) == std::future_status::ready);
  BOOST_TEST(outcome.failed_with<thespian::InvalidActorAddress>());
  BOOST_TEST(!outcome.reply.has_value());
}

BOOST_AUTO_TEST_CASE(async_ask_after_shutdown_fails_with_actor_system_failure) {
  auto core = make_core();
  auto target = make_recording_endpoint();
  core->shutdown();
  ask_outcome outcome;
  core->start_async_ask(ActorAddress(target), std::string("ping"), 1s, outcome.callback());
  BOOST_REQUIRE(outcome.done.get_future().wait_for(5s) == std::future_status::ready);
  BOOST_TEST(outcome.failed_with<thespian::ActorSystemFailure>());
  BOOST_TEST(target->received().empty());
}

BOOST_AUTO_TEST_CASE(shutdown_completes_a_pending_async_ask_with_actor_system_failure) {
  auto core = make_core("multithreadBase", {{"Thread Count", std::int64_t{1}}});
  auto target = make_recording_endpoint();  // never answers
  ask_outcome outcome;
  auto done = outcome.done.get_future();
  core->start_async_ask(ActorAddress(target), std::string("ping"), 60s, outcome.callback());
  BOOST_REQUIRE(done.wait_for(0s) != std::future_status::ready);
  core->shutdown();
  BOOST_REQUIRE(done.wait_for(5s) == std::future_status::ready);
  BOOST_TEST(outcome.failed_with<thespian::ActorSystemFailure>());
  BOOST_TEST(outcome.calls == 1);
}

// ------------------------------------------------------------------ status and logging

BOOST_AUTO_TEST_CASE(status_reports_base_capabilities_and_actor_count) {
  auto core = make_core("simpleSystemBase", {{"GPU", true}});
  (void)core->create_actor(actor_type_of<system_core_test::Quiet>(), {}, {}, nullptr);
  (void)core->create_actor(actor_type_of<system_core_test::Quiet>(), {}, {}, nullptr);
  const thespian::SystemStatus s = core->status();
  BOOST_TEST(s.base == "simpleSystemBase");
  BOOST_TEST(!s.admin_address.empty());
  BOOST_TEST((s.capabilities == core->capabilities()));
  BOOST_TEST(s.actor_count == 2u);
}

BOOST_AUTO_TEST_CASE(system_log_records_reach_the_sink_naming_the_system) {
  auto records = std::make_shared<std::vector<thespian::LogRecord>>();
  SystemOptions o = options();
  o.log_sink = [records](const thespian::LogRecord& r) { records->push_back(r); };
  o.sink_threshold = thespian::LogLevel::info;
  auto core = std::make_shared<system_core>("simpleSystemBase", Capabilities{}, o);
  core->log(thespian::LogLevel::debug, "below the sink threshold");
  core->log(thespian::LogLevel::warning, "system-log-text");
  BOOST_REQUIRE(records->size() == 1u);
  BOOST_TEST(records->front().text == "system-log-text");
  BOOST_TEST(contains(records->front().source, "system"), records->front().source);
}

// ------------------------------------------------------------------ shutdown

BOOST_AUTO_TEST_CASE(ensure_running_passes_before_shutdown_and_throws_after_naming_the_call) {
  auto core = make_core();
  BOOST_CHECK_NO_THROW(core->ensure_running("tell"));
  core->shutdown();
  try {
    core->ensure_running("frobnicate");
    BOOST_FAIL("ensure_running did not throw after shutdown");
  } catch (const thespian::ActorSystemFailure& e) {
    BOOST_TEST(contains(e.what(), "frobnicate"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(shutdown_is_idempotent) {
  for (const char* base : {"simpleSystemBase", "multithreadBase"}) {
    BOOST_TEST_CONTEXT(base) {
      auto core = make_core(base, {{"Thread Count", std::int64_t{2}}});
      (void)core->create_actor(actor_type_of<system_core_test::Quiet>(), {}, {}, nullptr);
      BOOST_CHECK_NO_THROW(core->shutdown());
      BOOST_CHECK_NO_THROW(core->shutdown());
      BOOST_TEST(core->is_shut_down());
      BOOST_TEST(core->actor_count() == 0u);
    }
  }
}

BOOST_AUTO_TEST_CASE(shutdown_stops_every_actor_and_joins_the_threads) {
  auto core = make_core("multithreadBase", {{"Thread Count", std::int64_t{2}}});
  for (int i = 0; i < 5; ++i) {
    (void)core->create_actor(actor_type_of<system_core_test::Quiet>(), {}, {}, nullptr);
  }
  BOOST_TEST(core->actor_count() == 5u);
  core->shutdown();
  BOOST_TEST(core->actor_count() == 0u);
  BOOST_TEST(core->driver().thread_count() == 0u);
}

BOOST_AUTO_TEST_CASE(shutdown_closes_the_default_external_endpoint) {
  auto core = make_core();
  core->shutdown();
  envelope e{std::string("after shutdown"), ActorAddress{}, envelope_kind::user, 0};
  BOOST_TEST(!core->default_endpoint()->deliver(std::move(e)));
}

BOOST_AUTO_TEST_CASE(begin_shutdown_refuses_further_outside_calls) {
  auto core = make_core();
  core->begin_shutdown();
  BOOST_TEST(core->is_shut_down());
  BOOST_CHECK_THROW(core->ensure_running("tell"), thespian::ActorSystemFailure);
  BOOST_CHECK_NO_THROW(core->shutdown());
}

BOOST_AUTO_TEST_SUITE_END()
