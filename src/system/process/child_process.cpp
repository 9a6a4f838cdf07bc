// Implements child_process.hpp: poll() on the pidfd, then reaping by the right parent.
#include "system/process/child_process.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <thread>
#include <utility>

namespace thespian::detail::process {
namespace {

// Whether the pidfd reports an exit within `timeout_ms` (-1: forever, 0: now).
bool pidfd_readable(int pidfd, int timeout_ms) {
  pollfd p{pidfd, POLLIN, 0};
  for (;;) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n >= 0) return n > 0;
    if (errno != EINTR) return false;
  }
}

}  // namespace

child_process::child_process(pid_t pid, unique_fd pidfd, unique_fd socket,
                             std::shared_ptr<reaper> by)
    : pid_(pid), pidfd_(std::move(pidfd)), socket_(std::move(socket)), reaper_(std::move(by)) {}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      socket_(std::move(other.socket_)),
      reaper_(std::move(other.reaper_)),
      status_(std::move(other.status_)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    socket_ = std::move(other.socket_);
    reaper_ = std::move(other.reaper_);
    status_ = std::move(other.status_);
  }
  return *this;
}

child_process::~child_process() { kill_and_reap(); }

void child_process::release() noexcept {
  socket_.reset();
  if (pid_ >= 0 && !status_ && pidfd_) {
    // Still ours to reap, whenever it ends: a thread waits for that, so that no zombie is
    // left for as long as this program runs.
    try {
      std::thread([pid = pid_, pidfd = std::move(pidfd_), by = std::move(reaper_)]() mutable {
        if (!pidfd_readable(pidfd.get(), -1)) return;
        if (by) {
          (void)by->reap(pid);
        } else {
          ::waitpid(pid, nullptr, 0);
        }
      }).detach();
    } catch (...) {
      // No thread: the process becomes a zombie once it ends, reaped when this program ends.
    }
  }
  pid_ = -1;
  pidfd_.reset();
  reaper_.reset();
}

bool child_process::signal(int sig) {
  if (status_ || !pidfd_) return false;
  return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) == 0;
}

std::optional<exit_status> child_process::wait_until(
    std::chrono::steady_clock::time_point deadline) {
  if (status_ || pid_ < 0) return status_;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const int timeout = static_cast<int>(std::clamp<long long>(left.count(), 0, 60'000));
    if (pidfd_readable(pidfd_.get(), timeout)) break;
    if (left.count() <= 0) return std::nullopt;
  }
  status_ = reaper_ ? reaper_->reap(pid_) : reap_child(pid_);
  return status_;
}

std::optional<exit_status> child_process::try_wait() {
  return wait_until(std::chrono::steady_clock::now());
}

void child_process::kill_and_reap() noexcept {
  if (pid_ < 0 || status_) return;
  try {
    signal(SIGKILL);
    wait_until(std::chrono::steady_clock::time_point::max());
  } catch (...) {
    // Nothing more can be done from a destructor; the process is at least signalled.
  }
}

}  // namespace thespian::detail::process
