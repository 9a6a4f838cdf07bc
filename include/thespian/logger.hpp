// Logger: the thread-safe handle through which an actor (or the system) writes log records.
// Records carry the writer's address and go to the system's logger and its sinks.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "thespian/export.hpp"

namespace thespian {

enum class LogLevel { debug = 10, info = 20, warning = 30, error = 40, critical = 50 };

THESPIAN_EXPORT std::string_view to_string(LogLevel level);

struct LogRecord {
  LogLevel level = LogLevel::info;
  std::string source;  // the actor's address as text, or "system"
  std::string text;
  std::chrono::system_clock::time_point when;
};

namespace detail {
class log_hub;
}

class THESPIAN_EXPORT Logger {
 public:
  // A logger that writes nowhere (what an actor sees before it has an address).
  Logger() = default;
  Logger(std::shared_ptr<detail::log_hub> hub, std::string source);

  void debug(std::string_view text) const { write(LogLevel::debug, text); }
  void info(std::string_view text) const { write(LogLevel::info, text); }
  void warning(std::string_view text) const { write(LogLevel::warning, text); }
  void error(std::string_view text) const { write(LogLevel::error, text); }
  void write(LogLevel level, std::string_view text) const;

 private:
  std::shared_ptr<detail::log_hub> hub_;
  std::string source_;
};

}  // namespace thespian
