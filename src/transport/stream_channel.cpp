// The stream channel (see stream_channel.hpp), instantiated for TCP and UNIX stream sockets.
// Coroutines here are named functions taking their arguments by value (g++ 12 miscompiles
// lambda coroutines with captures). The I/O thread owns every asio object; other threads touch
// only a connection's file descriptor, under its write_mutex, for the direct gathered write.
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

  // --- sending ------------------------------------------------------------------------------

  // The transmit turn holder writes every queued frame (as many as max_in_flight lets go) in
  // one send of the link's write buffer; any thread.
  static void transmit(std::shared_ptr<peer_link> link) {
    std::string& batch = link->write_buffer;  // the turn holder's alone
    while (link->queue.next_stream_batch(batch)) {
      std::size_t written = 0;
      std::uint64_t generation = 0;
      const int error = write_direct(*link, batch, written, generation);
      if (error == 0) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        // Socket buffer full: the I/O thread finishes this batch and keeps the turn going.
        link->owner->spawn(finish_write(link->owner, link, written, generation));
        return;
      }
      link->queue.release_turn();
      link->owner->post([owner = link->owner, link, generation, error] {
        owner->end_after_reading(link, generation,
                                 absl::StrFormat("write failed: %s", std::strerror(error)));
      });
      return;
    }
  }

  // Writes as much of `bytes` as the socket takes without blocking. 0 when all was written,
  // else the errno (EAGAIN with `written` bytes gone; ENOTCONN when there is no connection).
  static int write_direct(peer_link& link, const std::string& bytes, std::size_t& written,
                          std::uint64_t& generation) {
    std::lock_guard lock(link.write_mutex);
    generation = link.fd_generation;
    if (link.fd < 0) return ENOTCONN;
    written = 0;
    while (written < bytes.size()) {
      const ssize_t n = ::send(link.fd, bytes.data() + written, bytes.size() - written,
                               MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      written += static_cast<std::size_t>(n);
    }
    return 0;
  }

  static asio::awaitable<void> finish_write(impl* self, std::shared_ptr<peer_link> link,
                                            std::size_t skip, std::uint64_t generation) {
    if (generation != link->generation || !link->socket.is_open()) {
      link->queue.release_turn();
      co_return;  // the connection this batch was for is gone (its messages failed with it)
    }
    const std::string& batch = link->write_buffer;
    auto [ec, n] = co_await asio::async_write(
        link->socket, asio::buffer(batch.data() + skip, batch.size() - skip), as_tuple_awaitable);
    if (ec) {
      link->queue.release_turn();
      self->end_after_reading(link, generation, absl::StrFormat("write failed: %s", ec.message()));
      co_return;
    }
    transmit(link);
  }

  // --- outgoing connections -----------------------------------------------------------------

  static asio::awaitable<void> connect_loop(impl* self, std::shared_ptr<peer_link> link) {
    auto backoff = self->settings.reconnect_initial;
    bool reported = false;
    const auto started = std::chrono::steady_clock::now();
    while (!self->closed.load()) {
      std::error_code ec;
      if (link->reverse_only.load()) {
        // Only the peer can connect (adopt): until it has, this is a refusal like any other.
        if (link->queue.connected()) co_return;
        ec = asio::error::connection_refused;
      } else {
        socket_type s(self->io);
        auto [connect_ec] = co_await s.async_connect(link->peer, as_tuple_awaitable);
        if (self->closed.load()) co_return;
        if (!connect_ec) {
          self->connected(link, std::move(s));
          co_return;
        }
        ec = connect_ec;
      }
      if (self->settings.peers_never_return &&
          (link->ever_connected.load() ||
           std::chrono::steady_clock::now() - started >= self->settings.first_connect_grace)) {
        const std::string why =
            link->ever_connected.load()
                ? absl::StrFormat("the peer is gone (%s)", ec.message())
                : absl::StrFormat("the peer did not appear within %d ms (%s)",
                                  self->settings.first_connect_grace.count(), ec.message());
        link->queue.peer_gone(why).run();
        link->connecting.store(false);
        // A message that arrived meanwhile dials again (and is refused the same way).
        if (link->queue.idle() || link->connecting.exchange(true)) co_return;
        continue;
      }
      if (!reported) {
        self->settings.report(absl::StrFormat("cannot connect to %s (%s); retrying with back-off",
                                              describe(link->peer), ec.message()));
        reported = true;
      }
      link->backoff_timer.expires_after(backoff);
      [[maybe_unused]] auto [wait_ec] = co_await link->backoff_timer.async_wait(as_tuple_awaitable);
      backoff = std::min(backoff * 2, self->settings.reconnect_max);
      if (link->queue.idle()) {
        // Nothing waits for this peer any more: dial again on the next send.
        link->connecting.store(false);
        if (link->queue.idle() || link->connecting.exchange(true)) co_return;
      }
    }
  }

  // I/O thread: `fd`, a connection the peer dialled, as a socket of this channel; none (fd
  // closed, the failure reported) once the channel is closed or when the descriptor is refused.
  std::optional<socket_type> take_over(const peer_link& link, int fd, const char* what) {
    if (closed.load()) {
      ::close(fd);
      return std::nullopt;
    }
    socket_type s(io);
    std::error_code ec;
    s.assign(link.peer.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      settings.report(absl::StrFormat("cannot adopt %s from %s: %s", what, describe(link.peer),
                                      ec.message()));
      return std::nullopt;
    }
    return s;
  }

  // `how`: a connection we dialled (announced as duplex when settings.duplex_route says so),
  // one the peer dialled to receive on (adopt), or one the peer dialled and announced
  // (adopt_duplex, with the bytes its listener read past the origin frame).
  enum class connection_kind { dialled, adopted, adopted_duplex };

  void connected(const std::shared_ptr<peer_link>& link, socket_type s,
                 connection_kind how = connection_kind::dialled, std::string carried = {}) {
    std::error_code ignored;
    if (link->queue.connected()) {
      // A dial that lost a race with another one: the live connection carries messages whose
      // ACKs only it can bring (replacing it would leave them unanswered forever).
      s.close(ignored);
      link->connecting.store(false);
      return;
    }
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    s.non_blocking(true, ignored);
    link->duplex = how == connection_kind::adopted_duplex;
    if (how == connection_kind::dialled && settings.duplex_route != 0 && deliver) {
      // The first bytes of a fresh connection: its send buffer takes them whole.
      std::string origin = control_frame_bytes(frame_kind::origin);
      put_sequence(origin, 0, settings.duplex_route);
      const ssize_t n = ::send(s.native_handle(), origin.data(), origin.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      link->duplex = n == static_cast<ssize_t>(origin.size());
      if (!link->duplex && n > 0) {
        // A partial origin frame would corrupt the stream (an error only costs duplex: the
        // reader finds the connection broken).
        s.close(ignored);
        link->connecting.store(false);
        ensure_connecting(link);
        return;
      }
    }
    link->socket = std::move(s);
    ++link->generation;
    {
      std::lock_guard lock(link->write_mutex);
      link->fd = link->socket.native_handle();
      link->fd_generation = link->generation;
    }
    {
      std::lock_guard lock(stats_mutex);
      ++stats.connects;
    }
    link->queue.set_connected(true);
    link->ever_connected.store(true);
    // A connection to a gone peer's endpoint is to a new peer (a new process took its port).
    link->gone.store(false);
    link->connecting.store(false);
    spawn(read_acks(this, link, link->generation, std::move(carried)));
    if (link->queue.try_take_turn()) transmit(link);
  }

  // I/O thread. Tears down the connection of `generation` (once) and redials if needed.
  void connection_lost(const std::shared_ptr<peer_link>& link, std::uint64_t generation,
                       const std::string& why) {
    if (generation != link->generation || !link->socket.is_open()) return;
    {
      std::lock_guard lock(link->write_mutex);
      link->fd = -1;
    }
    std::error_code ignored;
    link->socket.close(ignored);
    link->ending_timer.cancel();
    if (link->gone.load()) {
      // Everything the ended peer wrote has been read (this is its end of stream, or the
      // grace ran out): what it did not acknowledge, it never will. No redial.
      std::string reason;
      {
        std::lock_guard lock(link->gone_mutex);
        reason = link->gone_reason;
      }
      link->queue.set_connected(false);
      link->queue.peer_gone(reason).run();
      return;
    }
    const std::string reason =
        absl::StrFormat("connection to %s lost (%s) before the message was acknowledged",
                        describe(link->peer), why);
    if (!closed.load()) settings.report(reason);
    link->queue.connection_lost(reason).run();
    if (!closed.load() && !link->queue.idle()) ensure_connecting(link);
  }

  // I/O thread. The connection of `generation` is ending: a write to it failed, or its peer's
  // process ended. Answers the peer wrote before that may still be unread (an ACK of a message
  // it took just before it closed), so the connection is not dropped here: its reader goes on
  // to the end of the stream, and connection_lost runs from there. Should that end not come
  // (another process still holding the peer's socket), the grace bounds the wait.
  void end_after_reading(const std::shared_ptr<peer_link>& link, std::uint64_t generation,
                         std::string why) {
    if (closed.load() || generation != link->generation || !link->socket.is_open()) return;
    if (link->ending_generation == generation) return;  // already waiting for its end
    link->ending_generation = generation;
    // The reader may be waiting for an epoll edge that will not come: drain_buffer takes a
    // short read as "drained", but an end of stream that came in the same edge as the last
    // bytes is still queued behind them. Cancelling its read makes it look at the socket.
    std::error_code ignored;
    link->socket.cancel(ignored);
    link->ending_timer.expires_after(ending_connection_grace);
    live.fetch_add(1);
    link->ending_timer.async_wait([this, link, generation, why = std::move(why)](std::error_code ec) {
      struct finished {
        impl* self;
        ~finished() { self->live.fetch_sub(1); }
      } done{this};
      if (ec || closed.load()) return;
      connection_lost(link, generation, why + "; the peer did not close the connection");
    });
  }

  // Reads the answers to what we sent and, on a duplex connection, the peer's data frames,
  // which it delivers and answers (owed answers lead the link's next send; see the header).
  static asio::awaitable<void> read_acks(impl* self, std::shared_ptr<peer_link> link,
                                         std::uint64_t generation, std::string carried) {
    frame_decoder decoder(self->settings.max_stream_frame);
    const std::size_t chunk = std::min<std::size_t>(self->settings.read_chunk, 64 << 10);
    std::string why = "closed by the peer";
    bool look_directly = false;  // the connection is ending: recv until the socket is empty
    absl::InlinedVector<pending_notifications, 2> answered;
    std::string answers;  // duplex: the NACKs and the ACK of one read
    bool decode_carried = !carried.empty();
    if (decode_carried) decoder.feed(carried);
    for (;;) {
      const std::span<char> room = decode_carried ? std::span<char>{} : decoder.prepare(chunk);
      std::error_code ec;
      std::size_t n = 0;
      if (decode_carried) {
        decode_carried = false;  // the bytes the listener read first, then the socket
      } else if (look_directly) {
        const direct_read direct = read_directly(link->socket.native_handle(), room);
        if (direct.would_block) {
          look_directly = false;  // still open: new bytes or its end raise an edge again
          continue;
        }
        ec = direct.ec;
        n = direct.n;
      } else {
        auto [read_ec, read_n] = co_await link->socket.async_read_some(drain_buffer(room.data(), room.size()), as_tuple_awaitable);
        if (read_ec == asio::error::operation_aborted && !self->closed.load() &&
            (link->ending_generation == generation || link->look_generation == generation) &&
            generation == link->generation && link->socket.is_open()) {
          look_directly = true;  // end_after_reading or sweep_loop cancelled the read
          link->look_generation = 0;
          continue;
        }
        ec = read_ec;
        n = read_n;
      }
      if (ec) {
        if (ec != asio::error::eof) why = ec.message();
        break;
      }
      if (n > 0) decoder.commit(n);
      ++link->reads;
      bool broken = false;
      bool delivered_any = false;
      std::uint64_t delivered_through = 0;
      // The outcomes of this read, run once the next batch is written: while the peer waits for
      // that batch (the window is full whenever an ACK arrives under load), it does not also wait
      // for every acknowledged message's handler (a pipelined run's 448 of them) and for the
      // wake-up of a sender parked at the high-water mark.
      answered.clear();
      for (;;) {
        decode_result r = decoder.next();
        if (r.needs_more()) break;
        if (r.is_error()) {
          why = absl::StrFormat("protocol error from the peer: %s: %s", to_string(r.error().kind),
                                r.error().detail);
          broken = true;
          break;
        }
        const frame& f = r.value();
        if (f.kind == frame_kind::ack) {
          answered.push_back(link->queue.acknowledge_through(f.sequence));
        } else if (f.kind == frame_kind::nack) {
          answered.push_back(link->queue.refuse(f.sequence));
        } else if (f.kind == frame_kind::data && link->duplex && self->deliver) {
          const std::uint64_t sequence = f.sequence;
          if (self->deliver_frame(std::move(r.value()), answers)) {
            delivered_any = true;
            delivered_through = sequence;
          }
        } else {
          why = absl::StrFormat("protocol error from the peer: a %s frame on an outgoing connection",
                                to_string(f.kind));
          broken = true;
          break;
        }
      }
      if (delivered_any) self->append_control(answers, self->ack_template, delivered_through);
      if (!answers.empty()) {
        link->queue.add_answers(answers);
        answers.clear();
        // Behind the actor runs the deliveries scheduled: a reply they send takes the answers
        // along; if none does, they leave on their own here.
        self->post([link, generation] {
          if (generation == link->generation && link->queue.try_take_turn(true)) transmit(link);
        });
      }
      // Room freed by the answers may have admitted parked senders' messages: write them.
      if (link->queue.try_take_turn()) transmit(link);
      for (auto& outcomes : answered) outcomes.run();  // in the order the answers came
      if (broken) {
        std::lock_guard lock(self->stats_mutex);
        ++self->stats.connections_closed_on_error;
        break;
      }
    }
    self->connection_lost(link, generation, why);
  }

  // --- incoming connections -----------------------------------------------------------------

  static asio::awaitable<void> accept_loop(impl* self) {
    asio::steady_timer pause(self->io);
    for (;;) {
      auto [ec, s] = co_await self->acceptor->async_accept(as_tuple_awaitable);
      if (self->closed.load()) co_return;
      if (ec) {
        // E.g. out of descriptors: say so, wait a little, keep serving.
        self->settings.report(absl::StrFormat("accept on %s failed: %s", describe(self->local), ec.message()));
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(as_tuple_awaitable);
        continue;
      }
      std::error_code ignored;
      if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
        s.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      s.non_blocking(true, ignored);
      auto connection = std::make_shared<inbound_connection>(std::move(s));
      self->inbound.insert(connection);
      {
        std::lock_guard lock(self->stats_mutex);
        ++self->stats.connections_accepted;
      }
      self->spawn(serve(self, connection));
    }
  }

  // Hands a data frame to the deliver handler. A frame it refused, or that made it throw, is
  // answered NACK in `answers`; true when delivered.
  bool deliver_frame(frame&& f, std::string& answers) {
    const std::uint64_t sequence = f.sequence;
    bool taken = false;
    try {
      taken = deliver(std::move(f));
    } catch (const std::exception& e) {
      settings.report(absl::StrFormat("deliver handler threw (message answered NACK): %s", e.what()));
    }
    if (!taken) append_control(answers, nack_template, sequence);
    return taken;
  }

  void append_control(std::string& out, const std::string& templ, std::uint64_t sequence) {
    const std::size_t at = out.size();
    out.append(templ);
    put_sequence(out, at, sequence);
  }

  // Reads data frames (at most read_chunk bytes per read), delivers them, answers NACKs and one
  // cumulative ACK per read. Any protocol error closes this connection only.
  static asio::awaitable<void> serve(impl* self, std::shared_ptr<inbound_connection> connection) {
    frame_decoder decoder(self->settings.max_stream_frame);
    std::string answers;
    std::string error;
    bool first_frame = true;
    bool look_directly = false;
    for (;;) {
      // Read in place into the decoder's buffer: no copy between the socket and cereal.
      const std::span<char> room = decoder.prepare(self->settings.read_chunk);
      // A short read drained the socket: the next one waits for data without a recv first
      // (drained_read.hpp). But a peer that ends inside a frame often has its last bytes and
      // its end of stream arrive in one epoll edge, and no edge would come for the end: so
      // after a short read that left a frame incomplete, look with a direct recv first (one
      // that may answer EAGAIN, only then). Between frames no look is needed: the ACK we
      // write makes a peer that has ended answer with a reset, which raises an edge.
      std::error_code ec;
      std::size_t n = 0;
      bool read = false;
      if (look_directly) {
        look_directly = false;
        const direct_read direct = read_directly(connection->socket.native_handle(), room);
        read = !direct.would_block;
        ec = direct.ec;
        n = direct.n;
      }
      if (!read) {
        std::tie(ec, n) = co_await connection->socket.async_read_some(drain_buffer(room.data(), room.size()), as_tuple_awaitable);
      }
      if (ec) {
        if (ec == asio::error::eof) {
          if (auto e = decoder.finish()) error = absl::StrFormat("%s: %s", to_string(e->kind), e->detail);
        }
        break;
      }
      decoder.commit(n);
      const bool short_read = n < room.size();
      bool delivered_any = false;
      std::uint64_t delivered_through = 0;
      for (;;) {
        decode_result r = decoder.next();
        if (r.needs_more()) break;
        if (r.is_error()) {
          error = absl::StrFormat("%s: %s", to_string(r.error().kind), r.error().detail);
          break;
        }
        frame& f = r.value();
        if (f.kind == frame_kind::hello && first_frame && self->settings.on_hello &&
            decoder.buffered_bytes() == 0) {
          // A reverse connection: from now on it is the sending side's (see the header).
          std::error_code release_ec;
          const int fd = connection->socket.release(release_ec);
          self->inbound.erase(connection);
          {
            std::lock_guard lock(self->stats_mutex);
            self->stats.decoded += decoder.counters();
          }
          if (release_ec) co_return;
          self->settings.on_hello(f.sequence, fd);
          co_return;
        }
        if (f.kind == frame_kind::origin && first_frame) {
          first_frame = false;
          if (!self->settings.on_origin) continue;  // served as a one-way connection
          // A duplex connection: the sending channel may take it (with the bytes read past the
          // origin frame), or leave it to us.
          const std::string rest(decoder.buffered().begin(), decoder.buffered().end());
          std::error_code protocol_ec;
          const auto protocol = connection->socket.local_endpoint(protocol_ec).protocol();
          std::error_code release_ec;
          const int fd = protocol_ec ? -1 : connection->socket.release(release_ec);
          if (fd < 0 || release_ec) continue;
          bool taken = false;
          try {
            taken = self->settings.on_origin(f.sequence, fd, rest);
          } catch (const std::exception& e) {
            // E.g. the sending channel is closing: this connection stays one-way.
            self->settings.report(absl::StrFormat("on_origin threw (connection kept one-way): %s", e.what()));
          }
          if (taken) {
            self->inbound.erase(connection);
            std::lock_guard lock(self->stats_mutex);
            self->stats.decoded += decoder.counters();
            co_return;
          }
          std::error_code assign_ec;
          connection->socket.assign(protocol, fd, assign_ec);
          if (assign_ec) {
            ::close(fd);
            error = absl::StrFormat("cannot serve a connection again: %s", assign_ec.message());
            break;
          }
          continue;
        }
        first_frame = false;
        if (f.kind != frame_kind::data) {
          error = absl::StrFormat("unexpected %s frame on an incoming connection", to_string(f.kind));
          break;
        }
        const std::uint64_t sequence = f.sequence;
        if (self->deliver_frame(std::move(f), answers)) {
          delivered_any = true;
          delivered_through = sequence;
        }
      }
      look_directly = short_read && decoder.buffered_bytes() > 0;
      if (delivered_any) self->append_control(answers, self->ack_template, delivered_through);
      if (!answers.empty()) {
        // Usually the socket takes the answers at once; wait for room only when it does not.
        std::error_code wec;
        std::size_t done = connection->socket.write_some(asio::buffer(answers), wec);
        if (wec == asio::error::would_block || wec == asio::error::try_again) {
          wec.clear();
          done = 0;
        }
        if (!wec && done < answers.size()) {
          auto [aec, written] = co_await asio::async_write(
              connection->socket, asio::buffer(answers.data() + done, answers.size() - done), as_tuple_awaitable);
          wec = aec;
        }
        answers.clear();
        if (wec) break;
      }
      if (!error.empty()) break;
    }
    {
      std::lock_guard lock(self->stats_mutex);
      self->stats.decoded += decoder.counters();
      if (!error.empty()) ++self->stats.connections_closed_on_error;
    }
    if (!error.empty() && !self->closed.load()) {
      self->settings.report(absl::StrFormat("closing incoming connection on %s after a protocol error: %s",
                                            describe(self->local), error));
    }
    std::error_code ignored;
    connection->socket.close(ignored);
    self->inbound.erase(connection);
  }

  // The reverse constructor: dial the peer (retrying with back-off), say hello, then serve the
  // connection as if it had been accepted.
  static asio::awaitable<void> dial_and_serve(impl* self, endpoint_type to, std::uint64_t key) {
    asio::steady_timer pause(self->io);
    auto backoff = self->settings.reconnect_initial;
    bool reported = false;
    while (!self->closed.load()) {
      socket_type s(self->io);
      auto [ec] = co_await s.async_connect(to, as_tuple_awaitable);
      if (self->closed.load()) co_return;
      if (ec) {
        if (!reported) {
          self->settings.report(absl::StrFormat("cannot dial %s (%s); retrying with back-off",
                                                describe(to), ec.message()));
          reported = true;
        }
        pause.expires_after(backoff);
        co_await pause.async_wait(as_tuple_awaitable);
        backoff = std::min(backoff * 2, self->settings.reconnect_max);
        continue;
      }
      std::error_code ignored;
      if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
        s.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      std::string hello = control_frame_bytes(frame_kind::hello);
      put_sequence(hello, 0, key);
      auto [write_ec, written] =
          co_await asio::async_write(s, asio::buffer(hello), as_tuple_awaitable);
      if (self->closed.load()) co_return;
      if (write_ec) {
        self->settings.report(
            absl::StrFormat("cannot greet %s: %s", describe(to), write_ec.message()));
        continue;
      }
      s.non_blocking(true, ignored);
      auto connection = std::make_shared<inbound_connection>(std::move(s));
      self->inbound.insert(connection);
      co_await serve(self, connection);
      // The peer holds our only way in: without it nobody can reach us any more.
      if (!self->closed.load()) {
        self->settings.report(absl::StrFormat("the connection to %s (dialled to receive) ended",
                                              describe(to)));
      }
      co_return;
    }
  }

  // --- timeouts and shutdown ----------------------------------------------------------------

  static asio::awaitable<void> sweep_loop(impl* self) {
    const auto interval = std::clamp<std::chrono::milliseconds>(
        self->settings.transmit_timeout / 8, std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
    while (!self->closed.load()) {
      self->sweep_timer.expires_after(interval);
      [[maybe_unused]] auto [ec] = co_await self->sweep_timer.async_wait(as_tuple_awaitable);
      if (self->closed.load()) co_return;
      std::vector<std::shared_ptr<peer_link>> links;
      {
        std::lock_guard lock(self->peers_mutex);
        for (auto& [peer, link] : self->peers) links.push_back(link);
      }
      const auto now = outbound_queue::clock::now();
      for (auto& link : links) {
        link->queue.expire(now).run();
        if (link->queue.try_take_turn()) transmit(link);
        look_if_stalled(*link);
      }
    }
  }

  // I/O thread. A reader takes a short read as "the socket is empty" and waits for the next
  // epoll edge (drained_read.hpp). But when the peer's end (FIN, or the RST our next write
  // draws from a closed socket) comes in the same edge as the last bytes it read, no edge
  // follows: the link waits forever with messages in flight, which then never get an outcome
  // (a dead_letters flake on multiprocTCPBase: a message written just after the peer's
  // process closed its socket). So a link with messages in flight that had no read since
  // the last sweep is looked at: bytes, an end or an error waiting make its reader look
  // directly (one recv with MSG_PEEK per such link and sweep; none while reads go on).
  static void look_if_stalled(peer_link& link) {
    const bool progressed = link.reads != link.reads_at_sweep;
    link.reads_at_sweep = link.reads;
    if (progressed || link.queue.in_flight() == 0 || !link.socket.is_open() ||
        link.look_generation == link.generation) {
      return;
    }
    char byte = 0;
    const ssize_t got = ::recv(link.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    link.look_generation = link.generation;
    std::error_code ignored;
    link.socket.cancel(ignored);
  }

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
