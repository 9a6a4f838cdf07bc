// log_hub: a system's logger. It filters records by threshold and writes them to the internal
// log file (THESPLOG_FILE, rotated at THESPLOG_FILE_MAXSIZE with one ".old") and to the
// optional sink of SystemOptions. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#include "thespian/logger.hpp"
#include "thespian/system_options.hpp"

namespace thespian::detail {

class log_hub {
 public:
  explicit log_hub(const SystemOptions& options);
  ~log_hub();

  void write(const LogRecord& record);
  bool enabled(LogLevel level) const noexcept {
    return level >= file_threshold_ || (sink_ && level >= sink_threshold_);
  }
  const std::string& file_path() const noexcept { return path_; }
  std::size_t file_max_size() const noexcept { return max_size_; }
  LogLevel file_threshold() const noexcept { return file_threshold_; }

 private:
  void write_file(const LogRecord& record);

  std::string path_;
  std::size_t max_size_;
  LogLevel file_threshold_;
  std::function<void(const LogRecord&)> sink_;
  LogLevel sink_threshold_;

  std::mutex file_mutex_;
  std::FILE* file_ = nullptr;
  std::size_t written_ = 0;
};

// "DEBUG", "info", "Warning", "30": the level it names, or `fallback`.
LogLevel parse_log_level(std::string_view text, LogLevel fallback);

}  // namespace thespian::detail
