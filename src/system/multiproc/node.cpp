// Implements node.hpp. One outgoing channel serves every local system: its connections are per
// peer process, so all systems of this process share them, and a message's outcome goes back
// to the system of its sender. Incoming frames are resolved by the wire table (address.cpp):
// the target of a frame is an endpoint of this process, or the frame is refused (NACK).
#include "system/multiproc/node.hpp"

#include <atomic>

#include <absl/strings/str_format.h>

#include "system/multiproc/protocol.hpp"
#include "system/multiproc/system_route.hpp"
#include "system/system_core.hpp"
#include "thespian/errors.hpp"
#include "transport/stream_channel.hpp"

namespace thespian::detail::multiproc {
namespace {

// Set while a channel's I/O thread runs one of our handlers (a delivery or an outcome).
thread_local bool in_channel_handler = false;

struct channel_handler_scope {
  channel_handler_scope() { in_channel_handler = true; }
  ~channel_handler_scope() { in_channel_handler = false; }
};

// An actor (or external endpoint) of another process: delivering is sending.
class remote_endpoint final : public endpoint {
 public:
  using endpoint::endpoint;
  bool deliver(envelope&& e) override { return node::instance().send(*this, std::move(e)); }
};

std::shared_ptr<endpoint> resolve_remote(std::uint64_t system_id, std::uint64_t id) {
  // An endpoint of a system of this process that is not (or no longer) there is unknown, not
  // remote: sending it to ourselves would only come back refused.
  if (kind_of(system_id) != route_kind::unix_socket || node::instance().is_local(system_id)) {
    return nullptr;
  }
  return std::make_shared<remote_endpoint>(system_id, id);
}

}  // namespace

struct node::impl {
  mutable std::mutex mutex;
  std::map<std::uint64_t, std::weak_ptr<system_core>> locals;
  std::map<std::uint64_t, std::unique_ptr<transport::unix_channel>> listeners;
  std::set<std::uint64_t> dead;

  std::mutex flight_mutex;
  std::condition_variable flight_done;
  std::size_t in_flight = 0;

  std::unique_ptr<transport::unix_channel> outgoing;

  std::shared_ptr<system_core> core_of(std::uint64_t system_id) const {
    std::lock_guard lock(mutex);
    if (auto it = locals.find(system_id); it != locals.end()) {
      if (auto core = it->second.lock()) return core;
    }
    for (const auto& [id, weak] : locals) {
      if (auto core = weak.lock()) return core;
    }
    return nullptr;
  }

  transport::transport_settings settings() {
    auto s = transport::transport_settings::from_environment();
    // An actor process's route is never reused: once it refuses, its actor is gone.
    s.peers_never_return = true;
    // Dialling an actor that is still starting is routine here: keep such lines out of stderr.
    s.log = [this](std::string_view line) {
      if (auto core = core_of(0)) core->log(LogLevel::debug, line);
    };
    return s;
  }

  void finished_one() {
    std::lock_guard lock(flight_mutex);
    if (--in_flight == 0) flight_done.notify_all();
  }
};

node& node::instance() {
  static node the_node;
  return the_node;
}

node::node() : impl_(std::make_unique<impl>()) {
  impl_->outgoing = std::make_unique<transport::unix_channel>(impl_->settings());
  set_remote_resolver(&resolve_remote);
}

node::~node() {
  set_remote_resolver(nullptr);
  // Channels first: their I/O threads call back into impl_.
  std::map<std::uint64_t, std::unique_ptr<transport::unix_channel>> listeners;
  {
    std::lock_guard lock(impl_->mutex);
    listeners.swap(impl_->listeners);
  }
  listeners.clear();
  impl_->outgoing.reset();
}

void node::attach(std::uint64_t system_id, const std::shared_ptr<system_core>& core) {
  auto deliver = [this](transport::frame&& f) -> bool {
    channel_handler_scope in_handler;
    endpoint* target = f.target.endpoint();
    if (target == nullptr || dynamic_cast<remote_endpoint*>(target) != nullptr) return false;
    if (const auto* exited = f.message.get<ChildActorExited>(); exited && exited->child) {
      const std::uint64_t child_system = exited->child.endpoint()->system_id();
      if (kind_of(child_system) != route_kind::in_process) mark_dead(child_system);
    }
    envelope e{std::move(f.message), std::move(f.sender), envelope_kind::user, 0};
    return target->deliver(std::move(e));
  };
  std::unique_ptr<transport::unix_channel> listener;
  try {
    listener = std::make_unique<transport::unix_channel>(unix_route(system_id), deliver,
                                                         impl_->settings());
  } catch (const std::exception& e) {
    throw ActorSystemStartupFailure(absl::StrFormat("cannot listen on %s: %s",
                                                    describe_route(system_id), e.what()));
  }
  std::lock_guard lock(impl_->mutex);
  impl_->locals[system_id] = core;
  impl_->listeners[system_id] = std::move(listener);
}

void node::detach(std::uint64_t system_id) {
  std::unique_ptr<transport::unix_channel> listener;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->locals.erase(system_id);
    if (auto it = impl_->listeners.find(system_id); it != impl_->listeners.end()) {
      listener = std::move(it->second);
      impl_->listeners.erase(it);
    }
  }
  listener.reset();  // closes it outside the lock: its handlers may take the lock
}

void node::mark_dead(std::uint64_t system_id) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->dead.insert(system_id).second) return;
  }
  // Messages already waiting for that process (a child that never started, say) fail now.
  impl_->outgoing->peer_gone(unix_route(system_id), "its process has ended");
}

bool node::is_local(std::uint64_t system_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->locals.contains(system_id);
}

bool node::is_dead(std::uint64_t system_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->dead.contains(system_id);
}

bool node::send(endpoint& to, envelope&& e) {
  if (e.kind != envelope_kind::user || is_dead(to.system_id())) return false;
  transport::frame f;
  f.kind = transport::frame_kind::data;
  f.target = ActorAddress(to.shared_from_this());
  f.sender = e.sender;
  f.message = e.message;  // shares the immutable payload, kept for a dead letter
  const std::uint64_t sender_system = e.sender ? e.sender.endpoint()->system_id() : 0;
  auto on_outcome = [this, target = f.target, sender = std::move(e.sender),
                     message = std::move(e.message),
                     sender_system](transport::send_outcome outcome) mutable {
    channel_handler_scope in_handler;
    // A log record that did not arrive is dropped: reporting it would log again, to the
    // same logger, and a dead letter of it could loop between the admin and the logger.
    if (outcome.status != transport::send_status::delivered && !message.is<LogRecordMessage>()) {
      if (auto core = impl_->core_of(sender_system)) {
        if (outcome.status == transport::send_status::failed) {
          core->log(LogLevel::warning, "a " + message.type_name() + " message to " +
                                           target.to_string() + " failed: " + outcome.reason);
        }
        envelope dead{std::move(message), std::move(sender), envelope_kind::user, 0};
        core->dead_letter(target, std::move(dead));
      }
    }
    impl_->finished_one();
  };
  {
    std::lock_guard lock(impl_->flight_mutex);
    ++impl_->in_flight;
  }
  try {
    if (in_channel_handler) {
      // A channel's own I/O thread must never wait for room: it is what makes room.
      impl_->outgoing->submit(unix_route(to.system_id()), std::move(f), std::move(on_outcome),
                              [](std::exception_ptr) {});
    } else {
      // Any other thread blocks above the high-water mark (SEMANTICS.md back-pressure).
      impl_->outgoing->send(unix_route(to.system_id()), std::move(f), std::move(on_outcome));
    }
  } catch (...) {
    impl_->finished_one();
    throw;
  }
  return true;
}

bool node::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(impl_->flight_mutex);
  return impl_->flight_done.wait_until(lock, deadline, [this] { return impl_->in_flight == 0; });
}

}  // namespace thespian::detail::multiproc
