// exit_watcher: tells an asio program the moment an actor process ends, with its exit status,
// by waiting for its pidfd to become readable (asio::posix::stream_descriptor::async_wait). The
// admin of a multi-process base keeps one per child and turns the notification into
// ChildActorExited for the parent actor.
#pragma once

#include <functional>
#include <memory>
#include <system_error>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "system/process/child_process.hpp"

namespace thespian::detail::process {

class exit_watcher : public std::enable_shared_from_this<exit_watcher> {
 public:
  // ec is empty when the process ended (status is then its exit status), operation_aborted
  // after cancel() or when the executor's context is destroyed first.
  using handler = std::function<void(std::error_code ec, const exit_status& status)>;

  // Starts watching at once; `on_exit` runs once, on `executor` (run by one thread: a wake-up
  // that finds the process still running waits again, see arm()). The watcher owns `child`
  // (and so kills and reaps it if it is destroyed before the process ended).
  static std::shared_ptr<exit_watcher> start(asio::any_io_executor executor, child_process child,
                                             handler on_exit);

  // Call on the executor. The handler then runs with operation_aborted, unless it already ran.
  void cancel();

  child_process& child() { return child_; }

  struct started {};
  exit_watcher(started, asio::any_io_executor executor, child_process child);

 private:
  void wait(handler on_exit);
  void arm(std::shared_ptr<handler> on_exit);

  child_process child_;
  asio::posix::stream_descriptor pidfd_;
};

}  // namespace thespian::detail::process
