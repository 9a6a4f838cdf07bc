// SystemOptions: settings of a system that are not capabilities (logging, queue marks, limits,
// destructor behaviour). Every field has a default; the THESPLOG_* environment variables fill
// the logging fields that are left empty.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "thespian/logger.hpp"

namespace thespian {

struct SystemOptions {
  // Internal log file; "" means $THESPLOG_FILE, else $TMPDIR/thespian.log.
  std::string log_file;
  // Rotation size in bytes (one ".old" is kept); 0 means $THESPLOG_FILE_MAXSIZE, else 50 KB.
  std::size_t log_file_max_size = 0;
  // Lowest level written to the file; "" means $THESPLOG_THRESHOLD, else "WARNING".
  std::string log_threshold;
  // Extra sink that sees every record at or above sink_threshold (called from any thread).
  std::function<void(const LogRecord&)> log_sink;
  LogLevel sink_threshold = LogLevel::debug;

  // Outbound queue marks per sender and target (Thespian's defaults). Used by the transports
  // of the multi-process bases; in-process delivery has no outbound queue.
  std::size_t queue_block_mark = 950, queue_resume_mark = 780, queue_fail_mark = 1050;

  // Upper bounds: create_actor from outside on the multi-process bases (in process, creation is
  // synchronous), and shutdown() (how long exiting actors may take, children included).
  std::chrono::nanoseconds create_timeout = std::chrono::seconds(10);
  std::chrono::nanoseconds shutdown_timeout = std::chrono::seconds(10);

  // simpleSystemBase: most handlers one tell() may run before it returns, so that a message
  // loop that never goes quiet cannot hang the caller.
  std::size_t simple_run_limit = 1'000'000;

  // Whether ~ActorSystem() shuts the system down. In-process bases always do (their actors
  // cannot outlive the object); it matters for the admin-based multi-process bases.
  bool shutdown_on_destroy = true;
};

}  // namespace thespian
