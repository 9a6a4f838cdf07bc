// Implements log_hub and Logger (see log_hub.hpp).
#include "core/log_hub.hpp"

#include <cstdlib>
#include <filesystem>

#include <absl/strings/ascii.h>
#include <absl/strings/numbers.h>
#include <absl/strings/str_format.h>
#include <absl/time/time.h>

namespace thespian {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warning: return "WARNING";
    case LogLevel::error: return "ERROR";
    case LogLevel::critical: return "CRITICAL";
  }
  return "LEVEL?";
}

Logger::Logger(std::shared_ptr<detail::log_hub> hub, std::string source)
    : hub_(std::move(hub)), source_(std::move(source)) {}

void Logger::write(LogLevel level, std::string_view text) const {
  if (!hub_ || !hub_->enabled(level)) return;
  hub_->write(LogRecord{level, source_, std::string(text), std::chrono::system_clock::now()});
}

namespace detail {
namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::move(fallback);
}

std::string default_log_path() {
  std::string dir = env_or("TMPDIR", "/tmp");
  return (std::filesystem::path(dir) / "thespian.log").string();
}

}  // namespace

LogLevel parse_log_level(std::string_view text, LogLevel fallback) {
  std::string upper = absl::AsciiStrToUpper(absl::string_view(text.data(), text.size()));
  if (upper == "DEBUG") return LogLevel::debug;
  if (upper == "INFO") return LogLevel::info;
  if (upper == "WARNING" || upper == "WARN") return LogLevel::warning;
  if (upper == "ERROR") return LogLevel::error;
  if (upper == "CRITICAL") return LogLevel::critical;
  int number = 0;
  if (absl::SimpleAtoi(upper, &number)) return static_cast<LogLevel>(number);
  return fallback;
}

log_hub::log_hub(const SystemOptions& options)
    : path_(!options.log_file.empty() ? options.log_file
                                      : env_or("THESPLOG_FILE", default_log_path())),
      max_size_(options.log_file_max_size),
      file_threshold_(parse_log_level(
          !options.log_threshold.empty() ? options.log_threshold
                                         : env_or("THESPLOG_THRESHOLD", "WARNING"),
          LogLevel::warning)),
      sink_(options.log_sink),
      sink_threshold_(options.sink_threshold) {
  if (max_size_ == 0) {
    std::size_t parsed = 0;
    max_size_ = absl::SimpleAtoi(env_or("THESPLOG_FILE_MAXSIZE", ""), &parsed) && parsed > 0
                    ? parsed
                    : 50 * 1024;
  }
}

log_hub::~log_hub() {
  if (file_) std::fclose(file_);
}

void log_hub::write(const LogRecord& record) {
  if (record.level >= file_threshold_) write_file(record);
  if (sink_ && record.level >= sink_threshold_) sink_(record);
}

void log_hub::write_file(const LogRecord& record) {
  std::string line = absl::StrFormat(
      "%s %-8s %s %s\n",
      absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::FromChrono(record.when), absl::UTCTimeZone()),
      to_string(record.level), record.source, record.text);
  std::lock_guard lock(file_mutex_);
  if (!file_) {
    file_ = std::fopen(path_.c_str(), "a");
    if (!file_) return;  // an unwritable log must not take the system down
    std::error_code ec;
    auto size = std::filesystem::file_size(path_, ec);
    written_ = ec ? 0 : static_cast<std::size_t>(size);
  }
  if (written_ + line.size() > max_size_ && written_ > 0) {
    std::fclose(file_);
    std::error_code ec;
    std::filesystem::rename(path_, path_ + ".old", ec);
    file_ = std::fopen(path_.c_str(), "w");
    written_ = 0;
    if (!file_) return;
  }
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
  written_ += line.size();
}

}  // namespace detail
}  // namespace thespian
