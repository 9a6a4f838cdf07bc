// Implements status_signal.hpp with an asio::signal_set on the system's own io_context: the
// handler runs on the system's thread, never in signal context.
#include "system/multiproc/status_signal.hpp"

#include <unistd.h>

#include <csignal>
#include <memory>

#include <asio/signal_set.hpp>

#include "system/system_core.hpp"

namespace thespian::detail::multiproc {
namespace {

void wait_for_signal(std::shared_ptr<asio::signal_set> signals, system_core* core,
                     std::string role) {
  auto& set = *signals;
  set.async_wait([signals = std::move(signals), core, role = std::move(role)](
                     const std::error_code& ec, int) mutable {
    if (ec) return;  // the system is shutting down
    try {
      core->log(LogLevel::warning, role + " process " + std::to_string(::getpid()) +
                                       " status (SIGUSR1):\n" + core->status().format());
    } catch (const std::exception& e) {
      core->log(LogLevel::warning, role + " process status (SIGUSR1) failed: " + e.what());
    }
    wait_for_signal(std::move(signals), core, std::move(role));
  });
}

}  // namespace

void log_status_on_sigusr1(system_core& core, std::string role) {
  auto signals = std::make_shared<asio::signal_set>(core.context(), SIGUSR1);
  wait_for_signal(std::move(signals), &core, std::move(role));
}

}  // namespace thespian::detail::multiproc
