// Logging from actors: log() records carry the actor's address and reach the system's logger,
// whose extra sink (SystemOptions::log_sink) the tests capture; levels and the sink threshold are
// honoured, and logging from an actor's other threads is safe.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/string.hpp>
#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

namespace logging_test {

using thespian::ActorAddress;
using thespian::LogLevel;
using thespian::LogRecord;
using thespian::Message;
using thespian_test::is_text;

// Every record the sink saw.
class captured_log {
 public:
  void add(const LogRecord& r) {
    std::lock_guard lock(mutex_);
    records_.push_back(r);
  }
  std::vector<LogRecord> with_text(const std::string& text) const {
    std::lock_guard lock(mutex_);
    std::vector<LogRecord> found;
    for (const auto& r : records_) {
      if (r.text == text) found.push_back(r);
    }
    return found;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<LogRecord> records_;
};

// outside -> chronicler: log `text` at `level`.
struct Write {
  LogLevel level = LogLevel::info;
  std::string text;
  template <class A> void serialize(A& ar) { ar(level, text); }
};
// outside -> chronicler: log `count` lines "thread <t> line <i>" from `threads` threads.
struct WriteFromThreads {
  int threads = 0;
  int count = 0;
  template <class A> void serialize(A& ar) { ar(threads, count); }
};

class Chronicler : public thespian::Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress from) override {
    if (const auto* w = m.get<Write>()) {
      switch (w->level) {
        case LogLevel::debug: log().debug(w->text); break;
        case LogLevel::info: log().info(w->text); break;
        case LogLevel::warning: log().warning(w->text); break;
        case LogLevel::error: log().error(w->text); break;
        default: log().write(w->level, w->text); break;
      }
      send(from, std::string("written"));
    } else if (const auto* wt = m.get<WriteFromThreads>()) {
      std::vector<std::thread> threads;
      for (int t = 0; t < wt->threads; ++t) {
        threads.emplace_back([this, t, count = wt->count] {
          for (int i = 0; i < count; ++i) {
            log().info("thread " + std::to_string(t) + " line " + std::to_string(i));
          }
        });
      }
      for (auto& t : threads) t.join();
      send(from, std::string("written"));
    }
    co_return;
  }
};

// A system whose log sink feeds `log`.
struct logging_fixture {
  std::shared_ptr<captured_log> log = std::make_shared<captured_log>();
  thespian::ActorSystem sys;

  explicit logging_fixture(LogLevel threshold = LogLevel::debug)
      : sys(thespian_test::current_base(), thespian_test::system_caps(), options(log, threshold)) {}
  ~logging_fixture() {
    try {
      sys.shutdown();
    } catch (const std::exception& e) {
      BOOST_ERROR("ActorSystem::shutdown() threw: " << e.what());
    }
  }

  static thespian::SystemOptions options(std::shared_ptr<captured_log> log, LogLevel threshold) {
    thespian::SystemOptions opts;
    opts.log_sink = [log](const LogRecord& r) { log->add(r); };
    opts.sink_threshold = threshold;
    return opts;
  }

  // Has the actor log `text` at `level` and waits until it answers.
  void write(const ActorAddress& actor, LogLevel level, const std::string& text) {
    BOOST_REQUIRE(thespian_test::text_of(sys.ask(actor, Write{level, text}, thespian_test::patience)) ==
                  "written");
  }
  bool wait_for_text(const std::string& text) {
    return thespian_test::wait_until(sys, [&] { return !log->with_text(text).empty(); });
  }
};

struct warning_logging_fixture : logging_fixture {
  warning_logging_fixture() : logging_fixture(LogLevel::warning) {}
};

}  // namespace logging_test

THESPIAN_MESSAGE(logging_test::Write);
THESPIAN_MESSAGE(logging_test::WriteFromThreads);

using namespace logging_test;

BOOST_FIXTURE_TEST_SUITE(logging, logging_fixture)

BOOST_AUTO_TEST_CASE(actor_log_records_reach_the_sink_carrying_the_actors_address) {
  auto actor = sys.create_actor<Chronicler>();
  write(actor, LogLevel::info, "a record from an actor");
  BOOST_REQUIRE(wait_for_text("a record from an actor"));
  auto records = log->with_text("a record from an actor");
  BOOST_TEST(records.size() == 1u);
  BOOST_TEST(records.front().source == actor.to_string());
  BOOST_TEST((records.front().level == LogLevel::info));
}

BOOST_AUTO_TEST_CASE(each_level_is_preserved) {
  auto actor = sys.create_actor<Chronicler>();
  const std::vector<std::pair<LogLevel, std::string>> cases{
      {LogLevel::debug, "level debug"},
      {LogLevel::info, "level info"},
      {LogLevel::warning, "level warning"},
      {LogLevel::error, "level error"},
      {LogLevel::critical, "level critical"}};
  for (const auto& [level, text] : cases) write(actor, level, text);
  for (const auto& [level, text] : cases) {
    BOOST_TEST_CONTEXT(text) {
      BOOST_REQUIRE(wait_for_text(text));
      BOOST_TEST((log->with_text(text).front().level == level));
    }
  }
}

BOOST_AUTO_TEST_CASE(records_of_different_actors_carry_their_own_addresses) {
  auto first = sys.create_actor<Chronicler>();
  auto second = sys.create_actor<Chronicler>();
  write(first, LogLevel::warning, "from the first");
  write(second, LogLevel::warning, "from the second");
  BOOST_REQUIRE(wait_for_text("from the first"));
  BOOST_REQUIRE(wait_for_text("from the second"));
  BOOST_TEST(log->with_text("from the first").front().source == first.to_string());
  BOOST_TEST(log->with_text("from the second").front().source == second.to_string());
}

BOOST_AUTO_TEST_CASE(record_time_is_when_it_was_written) {
  auto actor = sys.create_actor<Chronicler>();
  const auto before = std::chrono::system_clock::now();
  write(actor, LogLevel::info, "timestamped");
  BOOST_REQUIRE(wait_for_text("timestamped"));
  const auto after = std::chrono::system_clock::now();
  const auto when = log->with_text("timestamped").front().when;
  BOOST_TEST((when >= before - std::chrono::seconds(1)));
  BOOST_TEST((when <= after + std::chrono::seconds(1)));
}

BOOST_AUTO_TEST_CASE(logging_from_several_threads_of_an_actor_loses_nothing) {
  auto actor = sys.create_actor<Chronicler>();
  BOOST_REQUIRE(thespian_test::text_of(sys.ask(actor, WriteFromThreads{4, 50}, thespian_test::patience)) ==
                "written");
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 50; ++i) {
      const std::string text = "thread " + std::to_string(t) + " line " + std::to_string(i);
      BOOST_REQUIRE_MESSAGE(wait_for_text(text), "missing: " << text);
      BOOST_TEST(log->with_text(text).front().source == actor.to_string());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(logging_threshold, warning_logging_fixture)

BOOST_AUTO_TEST_CASE(sink_threshold_filters_out_lower_levels) {
  auto actor = sys.create_actor<Chronicler>();
  write(actor, LogLevel::debug, "below: debug");
  write(actor, LogLevel::info, "below: info");
  write(actor, LogLevel::warning, "at the threshold");
  write(actor, LogLevel::error, "above the threshold");
  BOOST_REQUIRE(wait_for_text("at the threshold"));
  BOOST_REQUIRE(wait_for_text("above the threshold"));
  BOOST_TEST(log->with_text("below: debug").empty());
  BOOST_TEST(log->with_text("below: info").empty());
}

BOOST_AUTO_TEST_SUITE_END()
