// The stream channel (see stream_channel.hpp), instantiated for TCP and UNIX stream sockets.
// Coroutines here are named functions taking their arguments by value (g++ 12 miscompiles
// lambda coroutines with captures). The I/O thread owns every asio object; other threads touch
// only a connection's file descriptor, under its write_mutex, for the direct gathered write.
// This file holds the channel's state (impl), its set-up, shutdown and public calls; the two
// halves of impl's work are in stream_channel_outgoing.ipp and stream_channel_incoming.ipp,
// included below (one translation unit: asio's coroutine TUs are slow to compile).
#include "transport/stream_channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <absl/container/inlined_vector.h>
#include <absl/strings/str_format.h>
#include <asio/experimental/as_tuple.hpp>

#include "transport/drained_read.hpp"
#include "transport/outbound_queue.hpp"

namespace thespian::transport {
namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// How long a connection that is ending (a write failed, or its peer's process ended) waits for
// its reader to reach the end of the stream before it is closed from here. The peer's end is
// normally closed already: the wait is for our reader, unless some other process still holds
// the peer's socket.
constexpr std::chrono::milliseconds ending_connection_grace{1000};

template <class Endpoint>
std::string describe(const Endpoint& e) {
  std::ostringstream os;
  os << e;
  std::string text = std::move(os).str();
  // An abstract UNIX socket's name starts with NUL: shown as '@' (as ss and netstat do), so
  // that messages naming the peer do not end there.
  for (char& c : text) {
    if (c == '\0') c = '@';
  }
  return text;
}

std::string control_frame_bytes(frame_kind kind) {
  return encode_frame(frame{kind, 0, {}, {}, {}}, default_max_stream_frame_size);
}

// Endpoint equality without asio's for UNIX endpoints, which builds a std::string of each path
// (two allocations for a path past the short-string size, on every send).
template <class Endpoint>
bool same_endpoint(const Endpoint& a, const Endpoint& b) {
  if constexpr (std::is_same_v<Endpoint, asio::local::stream_protocol::endpoint>) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
  } else {
    return a == b;
  }
}

// One non-blocking recv straight on a socket, for when Asio's reactor would wait for an epoll
// edge that may not come: after a short read the reactor takes the socket as drained
// (drained_read.hpp), but an end of stream that arrived in the same edge as the last bytes is
// still queued behind them. `would_block`: the socket is empty, and whatever comes next raises
// a new edge.
struct direct_read {
  std::error_code ec;
  std::size_t n = 0;
  bool would_block = false;
};

direct_read read_directly(int fd, std::span<char> room) {
  for (;;) {
    const ssize_t got = ::recv(fd, room.data(), room.size(), MSG_DONTWAIT);
    if (got > 0) return {{}, static_cast<std::size_t>(got), false};
    if (got == 0) return {asio::error::eof, 0, false};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {{}, 0, true};
    return {std::error_code(errno, std::system_category()), 0, false};
  }
}

void put_sequence(std::string& bytes, std::size_t at, std::uint64_t sequence) {
  for (int i = 0; i < 8; ++i) {
    bytes[at + 16 + i] = static_cast<char>(static_cast<unsigned char>(sequence >> (8 * i)));
  }
}

}  // namespace

template <class Protocol>
struct stream_channel<Protocol>::impl {
  using socket_type = typename Protocol::socket;
  using acceptor_type = typename Protocol::acceptor;

  // The outgoing connection to one peer and its queue.
  struct peer_link : std::enable_shared_from_this<peer_link> {
    peer_link(impl* owner, endpoint_type peer)
        : owner(owner), peer(peer),
          // On settings.io a batch would wait for the sending handler to return (the flush is
          // a handler of the same thread): a handler that then blocks or runs long would hold
          // back what it sent before, so each send writes at once there.
          queue(owner->settings, describe(peer), outbound_queue::framing::stream,
                /*batch_while_in_flight=*/owner->settings.io == nullptr),
          socket(owner->io), backoff_timer(owner->io), ending_timer(owner->io) {}

    impl* owner;
    const endpoint_type peer;
    outbound_queue queue;
    std::atomic<bool> connecting{false};
    std::atomic<bool> ever_connected{false};  // peers_never_return: a refusal then means gone
    std::atomic<bool> reverse_only{false};    // await_dial_from: never dialled, only adopted
    // I/O thread: the peer may send data frames on this connection (duplex, see the header).
    bool duplex = false;
    // peer_gone: the peer's process has ended. Its connection is then read to its end, not
    // dropped, since ACKs it wrote before it ended may still be unread.
    std::atomic<bool> gone{false};
    std::mutex gone_mutex;
    std::string gone_reason;  // under gone_mutex
    // I/O thread only.
    socket_type socket;
    asio::steady_timer backoff_timer;
    // end_after_reading: the connection waiting for its end of stream, and the bound of that
    // wait.
    std::uint64_t ending_generation = 0;
    asio::steady_timer ending_timer;
    std::uint64_t generation = 0;
    // The descriptor other threads write to, -1 while there is no connection.
    std::mutex write_mutex;
    int fd = -1;
    std::uint64_t fd_generation = 0;
    // The frames being written, back to back; only the transmit turn holder touches it.
    std::string write_buffer;
    // I/O thread: reads done on this link, and their count at the last sweep (a link with
    // messages in flight and no read since then is looked at: look_if_stalled); the
    // generation whose reader a look cancelled.
    std::uint64_t reads = 0;
    std::uint64_t reads_at_sweep = 0;
    std::uint64_t look_generation = 0;
  };

  // One accepted connection (I/O thread only).
  struct inbound_connection {
    explicit inbound_connection(socket_type s) : socket(std::move(s)) {}
    socket_type socket;
  };

  impl(transport_settings s, deliver_handler d)
      : settings(std::move(s)), deliver(std::move(d)),
        io(settings.io != nullptr ? *settings.io : own_io.emplace(1)), work(io.get_executor()),
        sweep_timer(io),
        ack_template(control_frame_bytes(frame_kind::ack)),
        nack_template(control_frame_bytes(frame_kind::nack)) {
    settings.validate();
  }

  transport_settings settings;
  deliver_handler deliver;
  // The channel's own io_context, run by its I/O thread; none when it runs on settings.io
  // (whose runner thread is then "the I/O thread" everywhere in this file).
  std::optional<asio::io_context> own_io;
  asio::io_context& io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  // On settings.io: coroutines and posted handlers of this channel not finished yet. close()
  // runs the io_context until none is left, since they use this impl (with an io_context of
  // its own, destroying it destroys them unrun).
  std::atomic<std::size_t> live{0};
  std::optional<acceptor_type> acceptor;
  std::optional<endpoint_type> reverse_to;  // the reverse constructor's peer
  std::uint64_t reverse_key = 0;
  endpoint_type local{};
  asio::steady_timer sweep_timer;
  const std::string ack_template;
  const std::string nack_template;
  std::thread thread;
  std::atomic<bool> closed{false};
  // Tells this channel apart from any other one (an address may be reused) in the per-thread
  // cache of submit().
  const std::uint64_t serial = next_serial.fetch_add(1, std::memory_order_relaxed) + 1;
  static inline std::atomic<std::uint64_t> next_serial{0};
  std::mutex close_mutex;  // serialises close() callers

  mutable std::mutex peers_mutex;
  std::map<endpoint_type, std::shared_ptr<peer_link>> peers;
  std::set<std::shared_ptr<inbound_connection>> inbound;  // I/O thread only

  mutable std::mutex stats_mutex;
  stream_channel_statistics stats;

  void start() {
    if (acceptor) spawn(accept_loop(this));
    if (reverse_to) spawn(dial_and_serve(this, *reverse_to, reverse_key));
    spawn(sweep_loop(this));
    if (own_io) thread = std::thread([this] { run_io(); });
  }

  // co_spawn and post on the channel's io_context, counted in `live`.
  template <class Awaitable>
  void spawn(Awaitable a) {
    live.fetch_add(1);
    asio::co_spawn(io, std::move(a), [this](std::exception_ptr) { live.fetch_sub(1); });
  }
  template <class F>
  void post(F f) {
    live.fetch_add(1);
    asio::post(io, [this, f = std::move(f)]() mutable {
      struct finished {
        impl* self;
        ~finished() { self->live.fetch_sub(1); }
      } done{this};
      f();
    });
  }

  // settings.io, on its runner thread: one handler, with run_io's reporting of exceptions.
  // false when nothing ran: the io_context is stopped or out of work (it never runs again).
  bool run_once() {
    if (io.stopped()) return false;
    try {
      return io.run_one() > 0;
    } catch (const std::exception& e) {
      settings.report(absl::StrFormat("a handler on the I/O thread threw: %s", e.what()));
    } catch (...) {
      settings.report("a handler on the I/O thread threw a non-standard exception");
    }
    return true;
  }

  // An exception out of a handler (an outcome or deliver handler that threw) is reported and
  // the loop goes on: it never takes the I/O thread down.
  void run_io() {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        settings.report(absl::StrFormat("a handler on the I/O thread threw: %s", e.what()));
      } catch (...) {
        settings.report("a handler on the I/O thread threw a non-standard exception");
      }
    }
  }

  std::shared_ptr<peer_link> link_for(const endpoint_type& peer) {
    std::lock_guard lock(peers_mutex);
    if (closed.load()) {
      throw channel_closed(absl::StrFormat("send to %s: the channel is closed", describe(peer)));
    }
    auto& slot = peers[peer];
    if (!slot) slot = std::make_shared<peer_link>(this, peer);
    return slot;
  }

  std::shared_ptr<peer_link> find_link(const endpoint_type& peer) const {
    std::lock_guard lock(peers_mutex);
    auto it = peers.find(peer);
    return it == peers.end() ? nullptr : it->second;
  }

  void ensure_connecting(const std::shared_ptr<peer_link>& link) {
    // The flag first, then the state: checked the other way round, a sender that saw "not
    // connected" just before the I/O thread connected (and cleared the flag) started a second
    // dial, whose connection replaced the first under the messages in flight on it.
    if (link->connecting.exchange(true)) return;
    if (link->queue.connected()) {
      link->connecting.store(false);
      return;
    }
    spawn(connect_loop(this, link));
  }

  // --- sending (stream_channel_outgoing.ipp) -----------------------------------------------------

  static void transmit(std::shared_ptr<peer_link> link);
  static int write_direct(peer_link& link, const std::string& bytes, std::size_t& written,
                          std::uint64_t& generation);
  static asio::awaitable<void> finish_write(impl* self, std::shared_ptr<peer_link> link,
                                            std::size_t skip, std::uint64_t generation);

  // --- outgoing connections (stream_channel_outgoing.ipp) ----------------------------------------

  static asio::awaitable<void> connect_loop(impl* self, std::shared_ptr<peer_link> link);
  std::optional<socket_type> take_over(const peer_link& link, int fd, const char* what);

  // `how`: a connection we dialled (announced as duplex when settings.duplex_route says so),
  // one the peer dialled to receive on (adopt), or one the peer dialled and announced
  // (adopt_duplex, with the bytes its listener read past the origin frame).
  enum class connection_kind { dialled, adopted, adopted_duplex };

  void connected(const std::shared_ptr<peer_link>& link, socket_type s,
                 connection_kind how = connection_kind::dialled, std::string carried = {});
  void connection_lost(const std::shared_ptr<peer_link>& link, std::uint64_t generation,
                       const std::string& why);
  void end_after_reading(const std::shared_ptr<peer_link>& link, std::uint64_t generation,
                         std::string why);
  static asio::awaitable<void> read_acks(impl* self, std::shared_ptr<peer_link> link,
                                         std::uint64_t generation, std::string carried);

  // --- incoming connections (stream_channel_incoming.ipp) ----------------------------------------

  static asio::awaitable<void> accept_loop(impl* self);
  bool deliver_frame(frame&& f, std::string& answers);
  void append_control(std::string& out, const std::string& templ, std::uint64_t sequence);
  static asio::awaitable<void> serve(impl* self, std::shared_ptr<inbound_connection> connection);
  static asio::awaitable<void> dial_and_serve(impl* self, endpoint_type to, std::uint64_t key);

  // --- timeouts (stream_channel_outgoing.ipp) and shutdown ------------------------------------

  static asio::awaitable<void> sweep_loop(impl* self);
  static void look_if_stalled(peer_link& link);

  // I/O thread: closes everything and fails what is pending.
  void shutdown() {
    std::error_code ignored;
    sweep_timer.cancel();
    if (acceptor) acceptor->close(ignored);
    for (auto& connection : inbound) connection->socket.close(ignored);
    std::vector<std::shared_ptr<peer_link>> links;
    {
      std::lock_guard lock(peers_mutex);
      for (auto& [peer, link] : peers) links.push_back(link);
    }
    // Answers still owed on duplex connections leave before they close: a peer must not take a
    // message we delivered (an exit request, typically) as lost.
    for (auto& link : links) {
      std::string owed;
      if (!link->queue.take_answers(owed)) continue;
      std::size_t written = 0;
      std::uint64_t generation = 0;
      (void)write_direct(*link, owed, written, generation);  // a full socket: the peer is not reading
      link->queue.release_turn();
    }
    for (auto& link : links) {
      {
        std::lock_guard lock(link->write_mutex);
        link->fd = -1;
      }
      link->socket.close(ignored);
      link->backoff_timer.cancel();
      link->ending_timer.cancel();
      link->queue.close("the channel was closed").run();
    }
    work.reset();
  }
};

#include "transport/stream_channel_outgoing.ipp"
#include "transport/stream_channel_incoming.ipp"

template <class Protocol>
stream_channel<Protocol>::stream_channel(const endpoint_type& listen_on, deliver_handler deliver,
                                         transport_settings settings)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(deliver))) {
  if constexpr (std::is_same_v<Protocol, asio::local::stream_protocol>) {
    ::unlink(listen_on.path().c_str());  // a stale socket file from an earlier run
  }
  if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
    if (impl_->settings.reuse_port) {
      using reuse_port_option = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
      auto& acceptor = impl_->acceptor.emplace(impl_->io);
      acceptor.open(listen_on.protocol());
      acceptor.set_option(asio::socket_base::reuse_address(true));
      acceptor.set_option(reuse_port_option(true));
      acceptor.bind(listen_on);
      acceptor.listen(asio::socket_base::max_listen_connections);
    }
  }
  if (!impl_->acceptor) impl_->acceptor.emplace(impl_->io, listen_on, /*reuse_address=*/true);
  impl_->local = impl_->acceptor->local_endpoint();
  impl_->start();
}

template <class Protocol>
stream_channel<Protocol>::stream_channel(transport_settings settings, deliver_handler deliver_back)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(deliver_back))) {
  impl_->start();
}

template <class Protocol>
stream_channel<Protocol>::stream_channel(const endpoint_type& dial_to, std::uint64_t hello_key,
                                         deliver_handler deliver, transport_settings settings)
    : impl_(std::make_unique<impl>(std::move(settings), std::move(deliver))) {
  impl_->reverse_to = dial_to;
  impl_->reverse_key = hello_key;
  impl_->start();
}

template <class Protocol>
stream_channel<Protocol>::~stream_channel() {
  close();
}

template <class Protocol>
typename Protocol::endpoint stream_channel<Protocol>::local_endpoint() const {
  return impl_->local;
}

template <class Protocol>
asio::any_io_executor stream_channel<Protocol>::get_executor() {
  return impl_->io.get_executor();
}

template <class Protocol>
admission stream_channel<Protocol>::submit(const endpoint_type& peer, frame f,
                                           outcome_handler on_outcome,
                                           admitted_handler on_admitted) {
  // Encoded into this thread's reused buffer; the queue copies it next to the peer's other
  // unsent frames, so no allocation per frame once the buffers have grown.
  thread_local std::string scratch;
  scratch.clear();
  encode_frame_into(f, impl_->settings.max_stream_frame, scratch);
  // The link this thread used last, when it is for the same channel and peer: a stream of sends
  // to one peer skips the peers' lock and map. Links are never removed from a live channel, so
  // a cached one is the one link_for() would return, alive as long as this channel (whose
  // serial no other channel ever has); closing is checked as link_for() does. A plain pointer:
  // a weak_ptr's lock() and the release after it were two atomic read-modify-writes on every
  // send; a shared_ptr is made only for the rarer sends that write or schedule a flush.
  struct last_link {
    std::uint64_t channel = 0;
    endpoint_type peer{};
    typename impl::peer_link* link = nullptr;
  };
  thread_local last_link last;
  typename impl::peer_link* link = nullptr;
  std::shared_ptr<typename impl::peer_link> owned;
  if (last.channel == impl_->serial && same_endpoint(last.peer, peer) && !impl_->closed.load()) {
    link = last.link;
  } else {
    owned = impl_->link_for(peer);
    link = owned.get();
    last = last_link{impl_->serial, peer, link};
  }
  auto action = outbound_queue::transmit_action::none;
  const admission how =
      link->queue.submit(scratch, std::move(on_outcome), std::move(on_admitted), action);
  if (scratch.capacity() > (std::size_t{1} << 20)) std::string().swap(scratch);  // after a big frame
  if (action == outbound_queue::transmit_action::none) return how;
  if (!owned) owned = link->shared_from_this();
  if (action == outbound_queue::transmit_action::write_now) {
    impl::transmit(std::move(owned));
  } else if (action == outbound_queue::transmit_action::schedule_flush) {
    impl_->post([link = std::move(owned)] {
      if (link->queue.begin_flush()) impl::transmit(link);
    });
  } else if (action == outbound_queue::transmit_action::connect) {
    impl_->ensure_connecting(owned);
  }
  return how;
}

template <class Protocol>
void stream_channel<Protocol>::close() {
  std::lock_guard lock(impl_->close_mutex);
  if (!impl_->own_io) {
    // On settings.io, from its runner thread: shut down here, then run the io_context until
    // every coroutine of this channel has ended (a stopped one runs nothing: they stay
    // unrun, and are destroyed unrun with the io_context).
    if (!impl_->closed.exchange(true)) impl_->shutdown();
    while (impl_->live.load() > 0 && impl_->run_once()) {
    }
    if constexpr (std::is_same_v<Protocol, asio::local::stream_protocol>) {
      if (impl_->acceptor) ::unlink(impl_->local.path().c_str());
    }
    return;
  }
  if (!impl_->closed.exchange(true)) {
    asio::post(impl_->io, [self = impl_.get()] { self->shutdown(); });
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  if constexpr (std::is_same_v<Protocol, asio::local::stream_protocol>) {
    if (impl_->acceptor) ::unlink(impl_->local.path().c_str());
  }
}

template <class Protocol>
bool stream_channel<Protocol>::io_runs_on_this_thread() const {
  return !impl_->own_io && std::this_thread::get_id() == impl_->settings.io_runner;
}

template <class Protocol>
bool stream_channel<Protocol>::run_io_once() {
  return impl_->run_once();
}

template <class Protocol>
std::size_t stream_channel<Protocol>::queue_depth(const endpoint_type& peer) const {
  auto link = impl_->find_link(peer);
  return link ? link->queue.depth() : 0;
}

template <class Protocol>
void stream_channel<Protocol>::peer_gone(const endpoint_type& peer, const std::string& reason) {
  auto link = impl_->find_link(peer);
  if (!link) return;
  // From now on a refused redial means gone too, so the dialling loop stops at its next try.
  link->ever_connected.store(true);
  {
    std::lock_guard lock(link->gone_mutex);
    link->gone_reason = reason;
  }
  link->gone.store(true);
  if (!link->queue.connected()) {
    // No connection holds unread answers: what waits has no way left to the peer.
    link->queue.peer_gone(reason).run();
    return;
  }
  // Its ACKs may still sit unread in the socket: failing those messages now would report
  // messages the peer took as never delivered. connection_lost fails the rest at its end.
  impl_->post([self = impl_.get(), link] {
    self->end_after_reading(link, link->generation, "its process ended");
  });
}

template <class Protocol>
void stream_channel<Protocol>::dial_now(const endpoint_type& peer) {
  auto link = impl_->find_link(peer);
  if (!link) return;
  // The timer belongs to the I/O thread; cancelling it ends the back-off wait early.
  impl_->post([link] { link->backoff_timer.cancel(); });
}

template <class Protocol>
void stream_channel<Protocol>::await_dial_from(const endpoint_type& peer) {
  impl_->link_for(peer)->reverse_only.store(true);
}

template <class Protocol>
void stream_channel<Protocol>::adopt(const endpoint_type& peer, int fd) {
  std::shared_ptr<typename impl::peer_link> link;
  try {
    link = impl_->link_for(peer);
  } catch (const channel_closed&) {
    ::close(fd);
    return;
  }
  impl_->post([self = impl_.get(), link, fd] {
    auto s = self->take_over(*link, fd, "a connection");
    if (!s) return;
    // A second connection from the same peer replaces the first (which the peer gave up).
    self->connection_lost(link, link->generation, "the peer dialled again");
    link->backoff_timer.cancel();  // a connect_loop waiting for it ends (the link is connected)
    self->connected(link, std::move(*s), impl::connection_kind::adopted);
  });
}

template <class Protocol>
bool stream_channel<Protocol>::adopt_duplex(const endpoint_type& peer, int fd,
                                            std::span<const char> rest) {
  std::shared_ptr<typename impl::peer_link> link;
  try {
    link = impl_->link_for(peer);
  } catch (const channel_closed&) {
    return false;
  }
  // The flag first, as ensure_connecting does: while it is set nobody dials this peer, and a
  // link that has (or is making) a connection keeps it, so its messages stay in one order.
  if (link->reverse_only.load() || link->connecting.exchange(true)) return false;
  if (link->queue.connected()) {
    link->connecting.store(false);
    return false;
  }
  impl_->post([self = impl_.get(), link, fd, carried = std::string(rest.begin(), rest.end())]() mutable {
    auto s = self->take_over(*link, fd, "a duplex connection");
    if (!s) {
      link->connecting.store(false);
      if (!self->closed.load() && !link->queue.idle()) self->ensure_connecting(link);
      return;
    }
    self->connected(link, std::move(*s), impl::connection_kind::adopted_duplex, std::move(carried));
  });
  return true;
}

template <class Protocol>
std::size_t stream_channel<Protocol>::parked_senders(const endpoint_type& peer) const {
  auto link = impl_->find_link(peer);
  return link ? link->queue.parked() : 0;
}

template <class Protocol>
std::size_t stream_channel<Protocol>::in_flight(const endpoint_type& peer) const {
  auto link = impl_->find_link(peer);
  return link ? link->queue.in_flight() : 0;
}

template <class Protocol>
stream_channel_statistics stream_channel<Protocol>::statistics() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

template class stream_channel<asio::ip::tcp>;
template class stream_channel<asio::local::stream_protocol>;

}  // namespace thespian::transport
