// The logger process of a multi-process system: the "thespian-logger" host entry and the actor
// it hosts. The admin and every actor process send their log records here (protocol.hpp,
// options_logging_to), so one process writes the internal log file (THESPLOG_FILE, rotated at
// THESPLOG_FILE_MAXSIZE, filtered by THESPLOG_THRESHOLD, as the creating program resolved them);
// records at or above the creating program's sink threshold go on to its SystemOptions::log_sink.
#include "system/multiproc/node.hpp"
#include "system/multiproc/protocol.hpp"
#include "system/multiproc/status_signal.hpp"
#include "system/process/bootstrap.hpp"
#include "system/process/child_guard.hpp"
#include "system/process/host_entry.hpp"
#include "system/process/local_socket.hpp"
#include "system/system_core.hpp"

namespace thespian::detail::multiproc {
namespace {

// Set by the entry before the logger actor exists; read-only afterwards.
struct logger_setup {
  std::shared_ptr<system_core> core;
  logger_spec spec;
};
logger_setup* the_logger = nullptr;

class logger_actor final : public Actor {
 public:
  asio::awaitable<void> receive(Message m, ActorAddress) override {
    if (const auto* r = m.get<LogRecordMessage>()) {
      const LogRecord record{static_cast<LogLevel>(r->level), r->source, r->text,
                             std::chrono::system_clock::time_point(
                                 std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                     std::chrono::nanoseconds(r->when_ns)))};
      the_logger->core->log()->write(record);
      if (the_logger->spec.has_sink && r->level >= the_logger->spec.sink_threshold) {
        send(client_, m);
      }
    }
    co_return;
  }

 private:
  ActorAddress client_{resolve_endpoint(the_logger->spec.client_system_id, control_endpoint_id)};
};

int logger_entry(process::host_context& context) {
  logger_setup setup;
  setup.spec = decode_logger_spec(context.argument);
  node& transport = node::instance();
  SystemOptions options;
  options.log_file = setup.spec.log_file;
  options.log_file_max_size = setup.spec.log_max_size;
  options.log_threshold = std::to_string(setup.spec.file_threshold);
  setup.core = std::make_shared<system_core>(setup.spec.base, Capabilities{}, std::move(options),
                                             process_role::admin, setup.spec.system_id);
  the_logger = &setup;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  try {
    setup.core->host_actor(actor_type_of<logger_actor>(), "thespian.Logger", {}, {},
                           ActorAddress{}, setup.spec.system_id, /*system_actor=*/true);
    transport.attach(setup.spec.system_id, setup.core);
  } catch (const std::exception& e) {
    process::write_bootstrap(
        context.socket,
        process::bootstrap_reply{process::bootstrap_reply::outcome::entry_failed, e.what()},
        deadline);
    return process::host_exit_failed;
  }
  log_status_on_sigusr1(*setup.core, "logger");
  process::write_bootstrap(context.socket, process::bootstrap_reply{}, deadline);
  process::wait_for_peer_close(context.socket);
  setup.core->shutdown();
  transport.detach(setup.spec.system_id);
  return process::host_exit_ok;
}

const process::host_entry_registrar logger_registrar("thespian-logger", &logger_entry);

}  // namespace
}  // namespace thespian::detail::multiproc
