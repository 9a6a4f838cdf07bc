// Implements node.hpp. One outgoing channel per route kind (UNIX, and TCP or UDP once such a
// system is addressed) serves every local system: its connections are per peer process, so all systems
// of this process share them, and a message's outcome goes back to the system of its sender.
// Incoming frames are resolved by the wire table (address.cpp): the target of a frame is an
// endpoint of this process, or (in the admin of a routed system) one this node relays, or the
// frame is refused (NACK).
#include "system/multiproc/node.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <variant>

#include <absl/strings/str_format.h>

#include "system/multiproc/protocol.hpp"
#include "system/multiproc/system_route.hpp"
#include "system/system_core.hpp"
#include "thespian/errors.hpp"
#include "transport/stream_channel.hpp"
#include "transport/udp_channel.hpp"

namespace thespian::detail::multiproc {
namespace {

// Set while a channel's I/O thread runs one of our handlers (a delivery or an outcome).
thread_local bool in_channel_handler = false;

// Restores what it found: in an actor process, a handler may run inside another one's wait
// (a blocking send runs the I/O, channel::send).
struct channel_handler_scope {
  bool outer = in_channel_handler;
  channel_handler_scope() { in_channel_handler = true; }
  ~channel_handler_scope() { in_channel_handler = outer; }
};

// Set while a listener's I/O thread delivers an incoming frame. A frame the admin relays from
// there may wait for room in the queue to the actor's process: that thread is not the one that
// makes room (the outgoing channel's is), and its waiting is what holds back the senders
// (their frames stay unacknowledged), so back-pressure reaches them as if they sent directly.
thread_local bool in_listener_delivery = false;

// An actor (or external endpoint) of another process: delivering is sending.
class remote_endpoint final : public endpoint {
 public:
  using endpoint::endpoint;
  bool deliver(envelope&& e) override { return node::instance().send(*this, std::move(e)); }
  bool in_this_process() const noexcept override { return false; }
};

// An endpoint of a routed system's actor process, as the admin sees it: delivering is relaying
// to that process's route.
class relayed_endpoint final : public endpoint {
 public:
  relayed_endpoint(std::uint64_t system_id, std::uint64_t id, std::uint64_t route)
      : endpoint(system_id, id), route_(route) {}
  bool in_this_process() const noexcept override { return false; }
  bool deliver(envelope&& e) override {
    if (in_listener_delivery) {
      in_channel_handler = false;  // restored by the delivery's own scope
      const bool sent = node::instance().send_via(route_, *this, std::move(e));
      in_channel_handler = true;
      return sent;
    }
    return node::instance().send_via(route_, *this, std::move(e));
  }

 private:
  const std::uint64_t route_;
};

std::uint64_t relay_route_of(std::uint64_t system_id, std::uint64_t id);

endpoint_ref<endpoint> resolve_remote(std::uint64_t system_id, std::uint64_t id) {
  // An endpoint of a system of this process that is not (or no longer) there is unknown, not
  // remote: sending it to ourselves would only come back refused. Unless this process is the
  // admin of a routed system and relays that endpoint.
  const route_kind kind = kind_of(system_id);
  if (kind != route_kind::unix_socket && !has_port(kind)) return nullptr;
  if (node::instance().is_local(system_id)) {
    const std::uint64_t route = relay_route_of(system_id, id);
    if (route == 0) return nullptr;
    return make_endpoint<relayed_endpoint>(system_id, id, route);
  }
  return make_endpoint<remote_endpoint>(system_id, id);
}

using listener = std::variant<std::unique_ptr<transport::unix_channel>,
                              std::unique_ptr<transport::tcp_channel>,
                              std::unique_ptr<transport::udp_channel>>;

// A dead UNIX system is dead as a whole (its id is never used again); a TCP system's port may
// be listened on again by a new process, so only the old actor's endpoint is dead.
std::pair<std::uint64_t, std::uint64_t> dead_key(std::uint64_t system_id,
                                                 std::uint64_t endpoint_id) {
  return {system_id, has_port(kind_of(system_id)) ? endpoint_id : 0};
}

}  // namespace

struct node::impl {
  mutable std::mutex mutex;
  std::map<std::uint64_t, std::weak_ptr<system_core>> locals;
  std::map<std::uint64_t, listener> listeners;
  // Dead actor processes, by dead_key.
  std::set<std::pair<std::uint64_t, std::uint64_t>> dead;
  // Admin Routing: the routed systems (admin id -> outbound only), and in a routed admin's
  // process, the relay table (endpoint block -> route of the actor process).
  std::map<std::uint64_t, bool> routed;
  std::map<std::uint64_t, std::uint64_t> relays;

  // dead_key, except that an ended process of a routed system is dead as a whole block (its
  // reply and control endpoints too). Needs `mutex`.
  std::pair<std::uint64_t, std::uint64_t> dead_key_of(std::uint64_t system_id,
                                                      std::uint64_t endpoint_id) const {
    if (routed.contains(system_id) && is_routed_actor_block(endpoint_id)) {
      return {system_id, relay_block_of(endpoint_id) << relay_block_bits};
    }
    return dead_key(system_id, endpoint_id);
  }

  std::mutex flight_mutex;
  std::condition_variable flight_done;
  std::size_t in_flight = 0;

  // An actor process (run_on): the io_context its stream channels run on, the thread that
  // runs it, and whether its channels are gone (close_channels).
  asio::io_context* shared_io = nullptr;
  std::thread::id io_runner;
  // Duplex connections (run_on): this process's route, and where frames that come back on
  // its outgoing connections go.
  std::uint64_t duplex_route = 0;
  transport::deliver_handler deliver_back;
  std::atomic<bool> released{false};

  // Each made on first use: a process of the queue base never needs the TCP channel's I/O
  // thread, nor one of the TCP base the UNIX one's (a thread less to start per actor process).
  std::once_flag unix_once;
  std::unique_ptr<transport::unix_channel> outgoing;
  std::once_flag tcp_once;
  std::unique_ptr<transport::tcp_channel> outgoing_tcp;

  transport::unix_channel& local_channel() {
    std::call_once(unix_once, [this] {
      outgoing = std::make_unique<transport::unix_channel>(settings(), deliver_back);
    });
    if (!outgoing) throw transport::channel_closed("this process's channels are closed");
    return *outgoing;
  }

  transport::tcp_channel& tcp() {
    std::call_once(tcp_once, [this] {
      outgoing_tcp = std::make_unique<transport::tcp_channel>(settings(), deliver_back);
    });
    if (!outgoing_tcp) throw transport::channel_closed("this process's channels are closed");
    return *outgoing_tcp;
  }

  // The UDP one sends from a port of its own (its answers come back there), never from a
  // system's route: a reservation of that route would otherwise receive them
  // (system_route.hpp).
  std::once_flag udp_once;
  std::unique_ptr<transport::udp_channel> outgoing_udp;

  transport::udp_channel& udp() {
    std::call_once(udp_once, [this] {
      outgoing_udp = std::make_unique<transport::udp_channel>(
          asio::ip::udp::endpoint(asio::ip::address_v4::loopback(), 0),
          [](transport::frame&&) { return false; }, settings());
    });
    return *outgoing_udp;
  }

  // Calls f(channel, peer) with the outgoing channel and peer endpoint of that system's route.
  template <class F>
  decltype(auto) with_route(std::uint64_t system_id, F&& f) {
    switch (kind_of(system_id)) {
      case route_kind::tcp:
        return f(tcp(), tcp_route(system_id));
      case route_kind::reverse:
        return f(tcp(), reverse_peer(system_id));
      case route_kind::udp:
        return f(udp(), udp_route(system_id));
      default:
        return f(local_channel(), unix_route(system_id));
    }
  }

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
    s.io = shared_io;
    s.io_runner = io_runner;
    // An actor process's route is never reused: once it refuses, its actor is gone.
    s.peers_never_return = true;
    // Dialling an actor that is still starting is routine here: keep such lines out of stderr.
    s.log = [this](std::string_view line) {
      if (auto core = core_of(0)) core->log(LogLevel::debug, line);
    };
    // An Outbound Only actor process dialled a listener of ours to receive its frames.
    if (shared_io != nullptr && duplex_route != 0) {
      s.duplex_route = duplex_route;
      // An actor process dialled us and offers its connection for our frames to it too.
      s.on_origin = [this](std::uint64_t key, int fd, std::span<const char> rest) {
        int domain = 0;
        socklen_t length = sizeof domain;
        if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0) return false;
        if (domain == AF_UNIX && kind_of(key) == route_kind::unix_socket) {
          return local_channel().adopt_duplex(unix_route(key), fd, rest);
        }
        if (domain == AF_INET && kind_of(key) == route_kind::tcp) {
          return tcp().adopt_duplex(tcp_route(key), fd, rest);
        }
        return false;
      };
    }
    s.on_hello = [this](std::uint64_t key, int fd) {
      if (kind_of(key) == route_kind::reverse) {
        tcp().adopt(reverse_peer(key), fd);
      } else {
        ::close(fd);
      }
    };
    return s;
  }

  void finished_one() {
    std::lock_guard lock(flight_mutex);
    if (--in_flight == 0) flight_done.notify_all();
  }
};

namespace {
// The resolver's question, in a routed admin: where does (system, id) go? A routed id that is
// not in the table yet gets its route now: its parent may have handed the address to a program
// (whose frames come straight here) before this admin read the parent's CreateActorRequest.
// Frames to it then wait in the channel as for a child not yet listening; an id of a process
// that ended is dead (mark_dead), and one that never comes fails after first_connect_grace.
std::uint64_t relay_route_of(std::uint64_t system_id, std::uint64_t id) {
  node& self = node::instance();
  if (const std::uint64_t route = self.relay_route(system_id, id)) return route;
  if (!self.is_routed(system_id) || !is_routed_actor_block(id) || self.is_dead(system_id, id)) {
    return 0;
  }
  return self.add_relay(id);
}
}  // namespace

bool node::is_routed(std::uint64_t system_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->routed.contains(system_id);
}

std::uint64_t node::relay_route(std::uint64_t system_id, std::uint64_t id) const {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->routed.contains(system_id)) return 0;
  auto it = impl_->relays.find(relay_block_of(id));
  return it == impl_->relays.end() ? 0 : it->second;
}

node& node::instance() {
  static node the_node;
  return the_node;
}

node::node() : impl_(std::make_unique<impl>()) {
  set_remote_resolver(&resolve_remote);
}

node::~node() {
  set_remote_resolver(nullptr);
  // Channels first: their I/O threads call back into impl_.
  std::map<std::uint64_t, listener> listeners;
  {
    std::lock_guard lock(impl_->mutex);
    listeners.swap(impl_->listeners);
  }
  listeners.clear();
  impl_->outgoing.reset();
  impl_->outgoing_tcp.reset();
  impl_->outgoing_udp.reset();
}

namespace {

// A frame that arrived on one of this process's routes (or reverse connections).
bool deliver_incoming(node& self, transport::frame&& f) {
  channel_handler_scope in_handler;
  struct listener_scope {
    bool outer = in_listener_delivery;
    listener_scope() { in_listener_delivery = true; }
    ~listener_scope() { in_listener_delivery = outer; }
  } in_listener;
  endpoint* target = f.target.endpoint();
  if (target == nullptr || dynamic_cast<remote_endpoint*>(target) != nullptr) return false;
  if (const auto* exited = f.message.get<ChildActorExited>(); exited && exited->child) {
    const auto* child = exited->child.endpoint();
    if (kind_of(child->system_id()) != route_kind::in_process) {
      self.mark_dead(child->system_id(), child->id());
    }
  } else if (const auto* create = f.message.get<CreateActorRequest>();
             create && create->system_id != 0 && create->system_id == target->system_id() &&
             self.is_local(create->system_id)) {
    // A routed actor's parent chose only its endpoint: the route is picked here, before the
    // next frame (from that parent, to the new child) is read and looked up.
    self.add_relay(create->endpoint_id);
  }
  envelope e{std::move(f.message), std::move(f.sender), envelope_kind::user, 0};
  return target->deliver(std::move(e));
}

}  // namespace

void node::attach(std::uint64_t system_id, const std::shared_ptr<system_core>& core,
                  bool exclusive) {
  auto deliver = [this](transport::frame&& f) { return deliver_incoming(*this, std::move(f)); };
  listener listening;
  try {
    auto settings = impl_->settings();
    if (kind_of(system_id) == route_kind::tcp) {
      settings.reuse_port = !exclusive;
      listening = std::make_unique<transport::tcp_channel>(tcp_route(system_id), deliver,
                                                           std::move(settings));
    } else if (kind_of(system_id) == route_kind::udp) {
      settings.reuse_port = !exclusive;
      listening = std::make_unique<transport::udp_channel>(udp_route(system_id), deliver,
                                                           std::move(settings));
    } else {
      listening = std::make_unique<transport::unix_channel>(unix_route(system_id), deliver,
                                                            std::move(settings));
    }
  } catch (const std::exception& e) {
    throw ActorSystemStartupFailure(absl::StrFormat("cannot listen on %s: %s",
                                                    describe_route(system_id), e.what()));
  }
  // The port is ours now: a reservation of it in this process (a client's) has done its job.
  release_route(system_id);
  std::lock_guard lock(impl_->mutex);
  impl_->locals[system_id] = core;
  impl_->listeners[system_id] = std::move(listening);
}

void node::attach_reverse(std::uint64_t system_id, std::uint64_t admin_system_id,
                          const std::shared_ptr<system_core>& core) {
  auto deliver = [this](transport::frame&& f) { return deliver_incoming(*this, std::move(f)); };
  auto listening = std::make_unique<transport::tcp_channel>(tcp_route(admin_system_id), system_id,
                                                            deliver, impl_->settings());
  std::lock_guard lock(impl_->mutex);
  impl_->locals[system_id] = core;
  impl_->listeners[system_id] = std::move(listening);
}

void node::set_routed(std::uint64_t admin_system_id, bool outbound_only) {
  std::lock_guard lock(impl_->mutex);
  impl_->routed[admin_system_id] = outbound_only;
}

std::uint64_t node::add_relay(std::uint64_t actor_id) {
  bool outbound_only = false;
  {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->relays.find(relay_block_of(actor_id)); it != impl_->relays.end()) {
      return it->second;
    }
    for (const auto& [admin, outbound] : impl_->routed) {
      if (impl_->locals.contains(admin)) outbound_only = outbound;
    }
  }
  std::uint64_t route = 0;
  if (outbound_only) {
    route = new_system_id(route_kind::reverse);
    impl_->tcp().await_dial_from(reverse_peer(route));
  } else {
    route = new_route(route_kind::tcp);
  }
  std::lock_guard lock(impl_->mutex);
  impl_->relays.emplace(relay_block_of(actor_id), route);
  return route;
}

void node::remove_relay(std::uint64_t actor_id) {
  std::uint64_t route = 0;
  {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->relays.find(relay_block_of(actor_id));
    if (it == impl_->relays.end()) return;
    route = it->second;
    impl_->relays.erase(it);
  }
  release_route(route);
  impl_->with_route(route, [](auto& channel, const auto& peer) {
    channel.peer_gone(peer, "its process has ended");
  });
}

std::uint64_t node::new_route(route_kind kind) {
  return has_port(kind) ? reserve_port_route(kind, asio::ip::address_v4::loopback())
                        : new_system_id(kind);
}

void node::detach(std::uint64_t system_id) {
  listener listening;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->locals.erase(system_id);
    if (auto it = impl_->listeners.find(system_id); it != impl_->listeners.end()) {
      listening = std::move(it->second);
      impl_->listeners.erase(it);
    }
  }
  listening = listener{};  // closes it outside the lock: its handlers may take the lock
}

void node::mark_dead(std::uint64_t system_id, std::uint64_t endpoint_id) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->dead.insert(impl_->dead_key_of(system_id, endpoint_id)).second) return;
    // A routed system's route is its admin's, which lives on (remove_relay fails what waited
    // for the process in the admin).
    if (impl_->routed.contains(system_id) || impl_->released.load()) return;
  }
  // Messages already waiting for that process (a child that never started, say) fail now.
  impl_->with_route(system_id, [](auto& channel, const auto& peer) {
    channel.peer_gone(peer, "its process has ended");
  });
}

void node::route_opened(std::uint64_t system_id) {
  if (impl_->released.load()) return;
  impl_->with_route(system_id, [](auto& channel, const auto& peer) { channel.dial_now(peer); });
}

bool node::is_local(std::uint64_t system_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->locals.contains(system_id);
}

bool node::is_dead(std::uint64_t system_id, std::uint64_t endpoint_id) const {
  std::lock_guard lock(impl_->mutex);
  return impl_->dead.contains(impl_->dead_key_of(system_id, endpoint_id));
}

bool node::send(endpoint& to, envelope&& e) { return send_via(to.system_id(), to, std::move(e)); }

bool node::send_via(std::uint64_t route, endpoint& to, envelope&& e) {
  if (e.kind != envelope_kind::user || impl_->released.load() ||
      is_dead(to.system_id(), to.id())) {
    return false;
  }
  transport::frame f;
  f.kind = transport::frame_kind::data;
  f.target = ActorAddress(endpoint_ref<endpoint>::share(&to));
  f.sender = e.sender;
  f.message = e.message;  // shares the immutable payload, kept for a dead letter
  const std::uint64_t sender_system = e.sender ? e.sender.endpoint()->system_id() : 0;
  // Over UDP a message can be too large to send at all: that error names its type.
  const Message kept = kind_of(to.system_id()) == route_kind::udp ? e.message : Message{};
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
    impl_->with_route(route, [&](auto& channel, const auto& peer) {
      if (in_channel_handler) {
        // A channel's own I/O thread must never wait for room: it is what makes room.
        channel.submit(peer, std::move(f), std::move(on_outcome), [](std::exception_ptr) {});
      } else {
        // Any other thread blocks above the high-water mark (SEMANTICS.md back-pressure).
        channel.send(peer, std::move(f), std::move(on_outcome));
      }
    });
  } catch (const transport::frame_too_large& too_large) {
    impl_->finished_one();
    if (kind_of(to.system_id()) != route_kind::udp) throw;
    // Refused here, never lost: the sender's tell() throws (an actor's send poisons the
    // message it was handling), as for any message that cannot be sent.
    throw UnserializableMessage(absl::StrFormat(
        "a %s message to %s is too large for multiprocUDPBase: encoded with its addresses it "
        "takes %d bytes, and one UDP datagram carries at most %d (use multiprocTCPBase for "
        "larger messages)",
        kept.type_name(), ActorAddress(endpoint_ref<endpoint>::share(&to)).to_string(),
        too_large.frame_size(), too_large.max_size()));
  } catch (...) {
    impl_->finished_one();
    throw;
  }
  return true;
}

bool node::flush(std::chrono::steady_clock::time_point deadline) {
  if (impl_->shared_io != nullptr && std::this_thread::get_id() == impl_->io_runner) {
    // The outcomes come from the I/O this thread runs (a UDP channel's from its own thread:
    // hence the short slices).
    for (;;) {
      {
        std::lock_guard lock(impl_->flight_mutex);
        if (impl_->in_flight == 0) return true;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline || impl_->shared_io->stopped()) return false;
      impl_->shared_io->run_one_until(std::min(deadline, now + std::chrono::milliseconds(5)));
    }
  }
  std::unique_lock lock(impl_->flight_mutex);
  return impl_->flight_done.wait_until(lock, deadline, [this] { return impl_->in_flight == 0; });
}

void node::run_on(asio::io_context& io, std::uint64_t duplex_route) {
  impl_->shared_io = &io;
  impl_->io_runner = std::this_thread::get_id();
  impl_->duplex_route = duplex_route;
  if (duplex_route != 0) {
    impl_->deliver_back = [this](transport::frame&& f) { return deliver_incoming(*this, std::move(f)); };
  }
}

void node::close_channels() {
  if (impl_->shared_io == nullptr) return;
  impl_->released.store(true);
  std::map<std::uint64_t, listener> listeners;
  {
    std::lock_guard lock(impl_->mutex);
    listeners.swap(impl_->listeners);
    impl_->locals.clear();
  }
  listeners.clear();
  // Not the UDP one: it has a thread of its own.
  std::call_once(impl_->unix_once, [] {});
  std::call_once(impl_->tcp_once, [] {});
  impl_->outgoing.reset();
  impl_->outgoing_tcp.reset();
}

}  // namespace thespian::detail::multiproc
