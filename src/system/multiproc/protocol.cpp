// Registers the internal messages of protocol.hpp and encodes the bootstrap specs. Specs are
// decoded under a wire budget like any frame: a parent is trusted to be ours, not to be sane.
#include "system/multiproc/protocol.hpp"

#include <sstream>

#include <cereal/archives/portable_binary.hpp>

#include "core/endpoint.hpp"
#include "core/wire_budget.hpp"
#include "thespian/message.hpp"

namespace thespian::detail::multiproc {
namespace {

const message_registrar<CreateActorRequest> create_request_registrar(
    "thespian.internal.CreateActorRequest");
const message_registrar<CreateActorReply> create_reply_registrar(
    "thespian.internal.CreateActorReply");
const message_registrar<ShutdownSystem> shutdown_registrar("thespian.internal.ShutdownSystem");
const message_registrar<SystemShutDown> shut_down_registrar("thespian.internal.SystemShutDown");
const message_registrar<SetDeadLetterHandler> handler_registrar(
    "thespian.internal.SetDeadLetterHandler");
const message_registrar<SystemStatusQuery> status_registrar("thespian.internal.SystemStatusQuery");
const message_registrar<LogRecordMessage> log_registrar("thespian.internal.LogRecord");
const message_registrar<UpdateCapability> capability_registrar(
    "thespian.internal.UpdateCapability");
const message_registrar<JoinSystem> join_registrar("thespian.internal.JoinSystem");
const message_registrar<JoinReply> join_reply_registrar("thespian.internal.JoinReply");
const message_registrar<ReleaseRoute> release_registrar("thespian.internal.ReleaseRoute");

class stream_source final : public wire_byte_source {
 public:
  stream_source(std::istringstream& in, std::size_t size) : in_(in), size_(size) {}
  std::size_t remaining() const noexcept override {
    const auto at = in_.tellg();
    return at < 0 ? 0 : size_ - static_cast<std::size_t>(at);
  }

 private:
  std::istringstream& in_;
  std::size_t size_;
};

template <class T>
std::string encode(const T& value) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(value);
  }
  return std::move(out).str();
}

template <class T>
T decode(const std::string& bytes) {
  std::istringstream in(bytes);
  stream_source source(in, bytes.size());
  wire_budget_scope budget(source);
  cereal::PortableBinaryInputArchive ar(in);
  T value;
  ar(value);
  return value;
}

}  // namespace

SystemOptions options_logging_to(const log_route& route) {
  SystemOptions options;
  options.log_threshold = "1000";  // no file of its own: the logger writes it
  if (route.logger_system_id == 0) return options;
  ActorAddress logger(resolve_endpoint(route.logger_system_id, route.logger_system_id));
  options.sink_threshold = static_cast<LogLevel>(route.threshold);
  options.log_sink = [logger](const LogRecord& r) {
    LogRecordMessage m{static_cast<std::int32_t>(r.level), r.source, r.text,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(
                           r.when.time_since_epoch()).count()};
    try {
      envelope e{Message(std::move(m)), ActorAddress{}, envelope_kind::user, 0};
      logger.endpoint()->deliver(std::move(e));
    } catch (const std::exception&) {
      // A record that cannot leave (queue full, logger gone) is not worth failing the caller.
    }
  };
  return options;
}

std::string encode_logger_spec(const logger_spec& spec) { return encode(spec); }
logger_spec decode_logger_spec(const std::string& bytes) { return decode<logger_spec>(bytes); }
std::string encode_admin_spec(const admin_spec& spec) { return encode(spec); }
admin_spec decode_admin_spec(const std::string& bytes) { return decode<admin_spec>(bytes); }
std::string encode_actor_spec(const actor_spec& spec) { return encode(spec); }
actor_spec decode_actor_spec(const std::string& bytes) { return decode<actor_spec>(bytes); }

}  // namespace thespian::detail::multiproc
