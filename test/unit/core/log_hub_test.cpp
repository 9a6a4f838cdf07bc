// Unit tests of log_hub and Logger (src/core/log_hub.cpp): threshold parsing (Thespian's
// THESPLOG_THRESHOLD names), the THESPLOG_* fallbacks, the log file with its one ".old"
// rotation, and the sink of SystemOptions. Each test writes in a temporary directory of its own.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "core/log_hub.hpp"
#include "../support.hpp"

namespace {

using thespian::LogLevel;
using thespian::LogRecord;
using thespian::SystemOptions;
using thespian::detail::log_hub;
using thespian::detail::parse_log_level;
using unit_support::contains;
using unit_support::env_guard;
using unit_support::read_file;
using unit_support::temp_dir;

LogRecord record(LogLevel level, std::string text, std::string source = "test-source") {
  return LogRecord{level, std::move(source), std::move(text), std::chrono::system_clock::now()};
}

struct recorded_sink {
  std::shared_ptr<std::vector<LogRecord>> records = std::make_shared<std::vector<LogRecord>>();
  std::function<void(const LogRecord&)> function() const {
    auto target = records;
    return [target](const LogRecord& r) { target->push_back(r); };
  }
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& r : *records) out.push_back(r.text);
    return out;
  }
};

SystemOptions file_options(const temp_dir& dir, std::string threshold) {
  SystemOptions options;
  options.log_file = (dir / "thespian.log").string();
  options.log_threshold = std::move(threshold);
  return options;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(core_log_hub)

// ------------------------------------------------------------------ thresholds

BOOST_AUTO_TEST_CASE(level_names_parse_in_any_case) {
  BOOST_TEST((parse_log_level("DEBUG", LogLevel::critical) == LogLevel::debug));
  BOOST_TEST((parse_log_level("info", LogLevel::critical) == LogLevel::info));
  BOOST_TEST((parse_log_level("Warning", LogLevel::critical) == LogLevel::warning));
  BOOST_TEST((parse_log_level("error", LogLevel::critical) == LogLevel::error));
  BOOST_TEST((parse_log_level("Critical", LogLevel::debug) == LogLevel::critical));
}

BOOST_AUTO_TEST_CASE(warn_is_accepted_as_warning) {
  BOOST_TEST((parse_log_level("WARN", LogLevel::debug) == LogLevel::warning));
}

BOOST_AUTO_TEST_CASE(numeric_levels_parse_as_python_logging_numbers) {
  BOOST_TEST((parse_log_level("10", LogLevel::critical) == LogLevel::debug));
  BOOST_TEST((parse_log_level("30", LogLevel::debug) == LogLevel::warning));
  BOOST_TEST((parse_log_level("50", LogLevel::debug) == LogLevel::critical));
}

BOOST_AUTO_TEST_CASE(unrecognised_or_empty_threshold_gives_the_fallback) {
  BOOST_TEST((parse_log_level("LOUD", LogLevel::error) == LogLevel::error));
  BOOST_TEST((parse_log_level("", LogLevel::info) == LogLevel::info));
}

BOOST_AUTO_TEST_CASE(level_names_print_in_capitals) {
  BOOST_TEST(thespian::to_string(LogLevel::debug) == "DEBUG");
  BOOST_TEST(thespian::to_string(LogLevel::info) == "INFO");
  BOOST_TEST(thespian::to_string(LogLevel::warning) == "WARNING");
  BOOST_TEST(thespian::to_string(LogLevel::error) == "ERROR");
  BOOST_TEST(thespian::to_string(LogLevel::critical) == "CRITICAL");
}

BOOST_AUTO_TEST_CASE(default_file_threshold_is_warning) {
  temp_dir dir;
  env_guard no_env("THESPLOG_THRESHOLD", std::nullopt);
  const log_hub hub(file_options(dir, ""));
  BOOST_TEST(!hub.enabled(LogLevel::info));
  BOOST_TEST(hub.enabled(LogLevel::warning));
  BOOST_TEST(hub.enabled(LogLevel::critical));
}

BOOST_AUTO_TEST_CASE(thesplog_threshold_sets_the_file_threshold_when_options_leave_it_empty) {
  temp_dir dir;
  env_guard env("THESPLOG_THRESHOLD", "Debug");
  const log_hub hub(file_options(dir, ""));
  BOOST_TEST(hub.enabled(LogLevel::debug));
}

BOOST_AUTO_TEST_CASE(threshold_in_options_takes_precedence_over_thesplog_threshold) {
  temp_dir dir;
  env_guard env("THESPLOG_THRESHOLD", "DEBUG");
  const log_hub hub(file_options(dir, "ERROR"));
  BOOST_TEST(!hub.enabled(LogLevel::warning));
  BOOST_TEST(hub.enabled(LogLevel::error));
}

// ------------------------------------------------------------------ the file

BOOST_AUTO_TEST_CASE(thesplog_file_names_the_file_when_options_leave_it_empty) {
  temp_dir dir;
  const std::string path = (dir / "from-env.log").string();
  env_guard env("THESPLOG_FILE", path);
  const log_hub hub(SystemOptions{});
  BOOST_TEST(hub.file_path() == path);
}

BOOST_AUTO_TEST_CASE(default_file_is_thespian_log_in_tmpdir) {
  temp_dir dir;
  env_guard no_file("THESPLOG_FILE", std::nullopt);
  env_guard tmpdir("TMPDIR", dir.path().string());
  const log_hub hub(SystemOptions{});
  BOOST_TEST(std::filesystem::path(hub.file_path()) == dir / "thespian.log");
}

BOOST_AUTO_TEST_CASE(file_receives_records_at_or_above_the_threshold_only) {
  temp_dir dir;
  const SystemOptions options = file_options(dir, "INFO");
  {
    log_hub hub(options);
    hub.write(record(LogLevel::debug, "debug-text-below"));
    hub.write(record(LogLevel::info, "info-text-at"));
    hub.write(record(LogLevel::error, "error-text-above"));
  }
  const std::string text = read_file(options.log_file);
  BOOST_TEST(!contains(text, "debug-text-below"), text);
  BOOST_TEST(contains(text, "info-text-at"), text);
  BOOST_TEST(contains(text, "error-text-above"), text);
}

BOOST_AUTO_TEST_CASE(file_lines_carry_level_source_and_text) {
  temp_dir dir;
  const SystemOptions options = file_options(dir, "DEBUG");
  {
    log_hub hub(options);
    hub.write(record(LogLevel::warning, "the text", "ActorAddr-(source)"));
  }
  const std::string text = read_file(options.log_file);
  BOOST_TEST(contains(text, "WARNING"), text);
  BOOST_TEST(contains(text, "ActorAddr-(source)"), text);
  BOOST_TEST(contains(text, "the text"), text);
  BOOST_TEST(text.back() == '\n');
}

BOOST_AUTO_TEST_CASE(file_is_appended_to_not_truncated) {
  temp_dir dir;
  SystemOptions options = file_options(dir, "DEBUG");
  std::ofstream(options.log_file) << "earlier run\n";
  {
    log_hub hub(options);
    hub.write(record(LogLevel::error, "this run"));
  }
  const std::string text = read_file(options.log_file);
  BOOST_TEST(text.rfind("earlier run\n", 0) == 0u, text);
  BOOST_TEST(contains(text, "this run"), text);
}

BOOST_AUTO_TEST_CASE(file_rotates_to_dot_old_at_its_maximum_size) {
  temp_dir dir;
  SystemOptions options = file_options(dir, "DEBUG");
  options.log_file_max_size = 300;
  const std::filesystem::path current = options.log_file;
  const std::filesystem::path old = options.log_file + ".old";
  {
    log_hub hub(options);
    for (int i = 0; i < 4; ++i) hub.write(record(LogLevel::info, "first-batch-" + std::to_string(i)));
    BOOST_REQUIRE(!std::filesystem::exists(old));
    for (int i = 0; i < 4; ++i) hub.write(record(LogLevel::info, "second-batch-" + std::to_string(i)));
  }
  BOOST_REQUIRE(std::filesystem::exists(old));
  BOOST_TEST(std::filesystem::file_size(current) <= 300u);
  BOOST_TEST(std::filesystem::file_size(old) <= 300u);
  BOOST_TEST(contains(read_file(old), "first-batch-0"));
  BOOST_TEST(contains(read_file(current), "second-batch-3"));
}

BOOST_AUTO_TEST_CASE(rotation_keeps_only_one_old_file) {
  temp_dir dir;
  SystemOptions options = file_options(dir, "DEBUG");
  options.log_file_max_size = 200;
  {
    log_hub hub(options);
    for (int i = 0; i < 40; ++i) hub.write(record(LogLevel::info, "line-" + std::to_string(i)));
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  BOOST_TEST(names == (std::vector<std::string>{"thespian.log", "thespian.log.old"}),
             boost::test_tools::per_element());
  BOOST_TEST(contains(read_file(dir / "thespian.log"), "line-39"));
  BOOST_TEST(!contains(read_file(dir / "thespian.log.old"), "line-0\n"));
}

BOOST_AUTO_TEST_CASE(existing_file_size_counts_towards_rotation) {
  temp_dir dir;
  SystemOptions options = file_options(dir, "DEBUG");
  options.log_file_max_size = 200;
  std::ofstream(options.log_file) << std::string(190, 'p') << '\n';
  {
    log_hub hub(options);
    hub.write(record(LogLevel::error, "after the earlier run"));
  }
  BOOST_REQUIRE(std::filesystem::exists(options.log_file + ".old"));
  BOOST_TEST(contains(read_file(options.log_file + ".old"), std::string(190, 'p')));
  const std::string current = read_file(options.log_file);
  BOOST_TEST(contains(current, "after the earlier run"), current);
  BOOST_TEST(!contains(current, "ppp"), current);
}

BOOST_AUTO_TEST_CASE(thesplog_file_maxsize_sets_the_rotation_size_when_options_leave_it_zero) {
  temp_dir dir;
  env_guard env("THESPLOG_FILE_MAXSIZE", "150");
  SystemOptions options = file_options(dir, "DEBUG");
  options.log_file_max_size = 0;
  {
    log_hub hub(options);
    for (int i = 0; i < 10; ++i) hub.write(record(LogLevel::info, "entry-" + std::to_string(i)));
  }
  BOOST_TEST(std::filesystem::exists(options.log_file + ".old"));
  BOOST_TEST(std::filesystem::file_size(options.log_file) <= 150u);
}

BOOST_AUTO_TEST_CASE(unwritable_log_file_does_not_throw_and_the_sink_still_gets_records) {
  temp_dir dir;
  recorded_sink sink;
  SystemOptions options;
  options.log_file = (dir / "missing-directory" / "thespian.log").string();
  options.log_threshold = "DEBUG";
  options.log_sink = sink.function();
  log_hub hub(options);
  BOOST_CHECK_NO_THROW(hub.write(record(LogLevel::error, "still delivered")));
  BOOST_TEST(sink.texts() == (std::vector<std::string>{"still delivered"}),
             boost::test_tools::per_element());
}

// ------------------------------------------------------------------ the sink

BOOST_AUTO_TEST_CASE(sink_receives_records_at_or_above_its_threshold) {
  temp_dir dir;
  recorded_sink sink;
  SystemOptions options = file_options(dir, "CRITICAL");
  options.log_sink = sink.function();
  options.sink_threshold = LogLevel::warning;
  log_hub hub(options);
  hub.write(record(LogLevel::info, "below"));
  hub.write(record(LogLevel::warning, "at"));
  hub.write(record(LogLevel::error, "above"));
  BOOST_TEST(sink.texts() == (std::vector<std::string>{"at", "above"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sink_receives_records_that_the_file_threshold_filters_out) {
  temp_dir dir;
  recorded_sink sink;
  SystemOptions options = file_options(dir, "CRITICAL");
  options.log_sink = sink.function();
  options.sink_threshold = LogLevel::debug;
  {
    log_hub hub(options);
    hub.write(record(LogLevel::debug, "sink-only"));
  }
  BOOST_TEST(sink.texts() == (std::vector<std::string>{"sink-only"}),
             boost::test_tools::per_element());
  BOOST_TEST(!contains(read_file(options.log_file), "sink-only"));
}

BOOST_AUTO_TEST_CASE(sink_record_keeps_level_source_and_text) {
  temp_dir dir;
  recorded_sink sink;
  SystemOptions options = file_options(dir, "CRITICAL");
  options.log_sink = sink.function();
  log_hub hub(options);
  hub.write(record(LogLevel::error, "what happened", "who said it"));
  BOOST_REQUIRE(sink.records->size() == 1u);
  const LogRecord& r = sink.records->front();
  BOOST_TEST((r.level == LogLevel::error));
  BOOST_TEST(r.source == "who said it");
  BOOST_TEST(r.text == "what happened");
}

BOOST_AUTO_TEST_CASE(enabled_reflects_both_the_file_and_the_sink_thresholds) {
  temp_dir dir;
  recorded_sink sink;
  SystemOptions options = file_options(dir, "ERROR");
  const log_hub without_sink(options);
  BOOST_TEST(!without_sink.enabled(LogLevel::warning));
  options.log_sink = sink.function();
  options.sink_threshold = LogLevel::info;
  const log_hub with_sink(options);
  BOOST_TEST(!with_sink.enabled(LogLevel::debug));
  BOOST_TEST(with_sink.enabled(LogLevel::info));
}

// ------------------------------------------------------------------ Logger

BOOST_AUTO_TEST_CASE(logger_writes_records_with_its_source_through_the_hub) {
  temp_dir dir;
  recorded_sink sink;
  SystemOptions options = file_options(dir, "CRITICAL");
  options.log_sink = sink.function();
  auto hub = std::make_shared<log_hub>(options);
  const thespian::Logger logger(hub, "ActorAddr-(logger)");
  logger.debug("d");
  logger.info("i");
  logger.warning("w");
  logger.error("e");
  BOOST_REQUIRE(sink.records->size() == 4u);
  BOOST_TEST(sink.texts() == (std::vector<std::string>{"d", "i", "w", "e"}),
             boost::test_tools::per_element());
  BOOST_TEST(((*sink.records)[2].level == LogLevel::warning));
  for (const auto& r : *sink.records) BOOST_TEST(r.source == "ActorAddr-(logger)");
}

BOOST_AUTO_TEST_CASE(default_constructed_logger_writes_nowhere_without_failing) {
  const thespian::Logger logger;
  BOOST_CHECK_NO_THROW(logger.error("into the void"));
}

BOOST_AUTO_TEST_SUITE_END()
