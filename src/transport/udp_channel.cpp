// The UDP channel (see udp_channel.hpp). The I/O thread receives, answers and retransmits;
// senders on any thread write their datagrams themselves through the socket's descriptor,
// under fd_mutex so that close() never leaves them a reused descriptor.
#include "transport/udp_channel.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <absl/strings/str_format.h>
#include <asio/experimental/as_tuple.hpp>

#include "transport/drained_read.hpp"
#include "transport/frame_decoder.hpp"
#include "transport/outbound_queue.hpp"

namespace thespian::transport {
namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
// How many answered sequences each sender's duplicate filter remembers.
constexpr std::size_t remembered_sequences = 1 << 16;
// A sender whose window jumps further ahead than this is a new incarnation (its sequences start
// from its clock in nanoseconds), not one that gave up that many messages.
constexpr std::uint64_t new_incarnation_jump = std::uint64_t{1} << 32;
// The receive buffer each channel asks for (see open_socket).
constexpr int udp_receive_buffer_request = 4 << 20;

// A window of datagrams must fit the receiver's buffer even at Debian's default limit (416 KiB
// as the kernel counts it, ~1 KiB per datagram however small): 256 does, the streams' default
// window of 448 (sized to one 64 KiB stream read) does not, and every datagram dropped there
// costs a retransmit. A larger setting is capped to this for datagrams.
constexpr std::size_t max_datagrams_in_flight = 256;

transport_settings datagram_settings(transport_settings s) {
  s.max_in_flight = std::min(s.max_in_flight, max_datagrams_in_flight);
  return s;
}

std::string describe(const asio::ip::udp::endpoint& e) {
  std::ostringstream os;
  os << e;
  return os.str();
}

// An ACK or NACK datagram: the encoded control frame of that kind (made once) with the
// sequence stamped into a copy held in `out` (the I/O thread's reused buffer): no encoding and
// no allocation per answer.
const std::string& answer_bytes(frame_kind kind, std::uint64_t sequence, std::string& out) {
  static const std::string ack = encode_frame(frame{frame_kind::ack, 0, {}, {}, {}}, max_udp_frame_size);
  static const std::string nack = encode_frame(frame{frame_kind::nack, 0, {}, {}, {}}, max_udp_frame_size);
  out = kind == frame_kind::ack ? ack : nack;
  for (int i = 0; i < 8; ++i) out[16 + i] = static_cast<char>(static_cast<unsigned char>(sequence >> (8 * i)));
  return out;
}

// The channel's socket: bound with SO_REUSEPORT when its port was reserved by another socket,
// and asking for ICMP errors when a dead peer must be noticed (udp_channel.hpp).
asio::ip::udp::socket open_socket(asio::io_context& io, const asio::ip::udp::endpoint& bind_to,
                                  const transport_settings& settings) {
  asio::ip::udp::socket socket(io, bind_to.protocol());
  if (settings.reuse_port) {
    socket.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  }
  if (settings.peers_never_return) {
    socket.set_option(asio::detail::socket_option::boolean<SOL_IP, IP_RECVERR>(true));
  }
  // A burst from a few senders (max_in_flight datagrams each, ~1 KiB of kernel accounting
  // apiece even when small) overflows the default 208 KiB receive buffer of a socket whose
  // thread is descheduled for a moment; each datagram dropped there costs its sender a
  // retransmit after retransmit_initial, doubling. The kernel caps the request at
  // net.core.rmem_max and then doubles it, so even at Debian's default limit (208 KiB) the
  // buffer is twice the default; where the limit is higher it is 8 MiB.
  socket.set_option(asio::socket_base::receive_buffer_size(udp_receive_buffer_request));
  socket.bind(bind_to);
  return socket;
}

}  // namespace

struct udp_channel::impl {
  struct peer_link {
    peer_link(const transport_settings& s, endpoint_type peer, std::uint64_t first_sequence)
        : peer(peer),
          queue(s, describe(peer), outbound_queue::framing::datagram,
                /*batch_while_in_flight=*/false, first_sequence) {
      queue.set_connected(true);  // datagrams need no connection
    }
    const endpoint_type peer;
    outbound_queue queue;
    // peers_never_return: whether the peer ever answered, and since when messages have waited
    // for it (its queue was idle before), in clock ticks.
    std::atomic<bool> ever_answered{false};
    std::atomic<outbound_queue::clock::rep> waiting_since{0};
    // The frames being sent, reused (only the transmit turn holder touches it).
    std::vector<outbound_queue::outgoing> batch;
  };

  // What this channel answered to one sender's recent sequences (I/O thread only).
  struct duplicate_filter {
    // sequence -> delivered (ACK) or not (NACK); open addressing: no allocation per datagram
    absl::flat_hash_map<std::uint64_t, bool> answered;
    std::deque<std::uint64_t> order;
    void remember(std::uint64_t sequence, bool delivered) {
      answered.emplace(sequence, delivered);
      order.push_back(sequence);
      if (order.size() > remembered_sequences) {
        answered.erase(order.front());
        order.pop_front();
      }
    }
  };

  struct held_datagram {
    frame f;
    outbound_queue::clock::time_point since;
  };
  // One sender as this channel receives it (I/O thread only): what was answered, the next
  // sequence to deliver, and what arrived ahead of a gap.
  struct sender_state {
    duplicate_filter filter;
    bool started = false;
    std::uint64_t next = 0;
    std::map<std::uint64_t, held_datagram> held;
  };

  impl(const endpoint_type& bind_to, deliver_handler d, transport_settings s)
      : settings(datagram_settings(std::move(s))), deliver(std::move(d)), work(io.get_executor()),
        socket(open_socket(io, bind_to, settings)), sweep_timer(io),
        first_sequence(static_cast<std::uint64_t>(
            std::chrono::system_clock::now().time_since_epoch().count())) {
    settings.validate();
    socket.non_blocking(true);
    fd = socket.native_handle();
    local = socket.local_endpoint();
  }

  transport_settings settings;
  deliver_handler deliver;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  asio::ip::udp::socket socket;
  asio::steady_timer sweep_timer;
  std::atomic<bool> sweep_idle{false};  // the sweep sleeps idle_sweep (see wake_sweep)
  endpoint_type local;
  const std::uint64_t first_sequence;
  std::thread thread;
  std::atomic<bool> closed{false};
  std::mutex close_mutex;

  std::mutex fd_mutex;
  int fd = -1;

  mutable std::mutex peers_mutex;
  std::map<endpoint_type, std::shared_ptr<peer_link>> peers;
  std::map<endpoint_type, sender_state> senders;  // I/O thread only
  std::string answer_buffer;                      // I/O thread only: ACK/NACK being sent
  // I/O thread only: decodes every datagram, its buffer reused (one per datagram cost an
  // allocation each); replaced after a datagram it refused.
  frame_decoder datagram_decoder{max_udp_frame_size, /*datagram=*/true};

  mutable std::mutex stats_mutex;
  udp_channel_statistics stats;

  std::shared_ptr<peer_link> link_for(const endpoint_type& peer) {
    std::lock_guard lock(peers_mutex);
    if (closed.load()) {
      throw channel_closed(absl::StrFormat("send to %s: the channel is closed", describe(peer)));
    }
    auto& slot = peers[peer];
    if (!slot) slot = std::make_shared<peer_link>(settings, peer, first_sequence);
    return slot;
  }

  std::shared_ptr<peer_link> find_link(const endpoint_type& peer) const {
    std::lock_guard lock(peers_mutex);
    auto it = peers.find(peer);
    return it == peers.end() ? nullptr : it->second;
  }

  // One datagram; a failed send is left to the retransmit timer (UDP may drop anyway).
  void send_datagram(const endpoint_type& to, const std::string& bytes) {
    std::lock_guard lock(fd_mutex);
    if (fd < 0) return;
    while (::sendto(fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL, to.data(),
                    static_cast<socklen_t>(to.size())) < 0 && errno == EINTR) {
    }
  }

  // The turn holder's; the link's batch keeps its frames' buffers from one batch to the next.
  void transmit(peer_link& link) {
    std::vector<outbound_queue::outgoing>& batch = link.batch;
    while (link.queue.next_batch(batch, 64)) {
      for (const auto& out : batch) send_datagram(link.peer, out.bytes);
    }
    // Keep one small frame's buffer for the next message, not a burst's worth of them.
    if (batch.size() > 1) batch.resize(1);
    if (!batch.empty() && batch.front().bytes.capacity() > 4096) batch.clear();
  }

  // Reads up to two datagrams per wake-up; when fewer came the socket was drained, and the next
  // read waits in the reactor without a recv that could only answer EAGAIN (drained_read.hpp).
  static asio::awaitable<void> receive_loop(impl* self) {
    std::vector<char> buffer(max_udp_frame_size + 1);
    std::vector<char> second_buffer(max_udp_frame_size + 1);
    more_datagram more;
    // With IP_RECVERR a short recvmmsg may hide an error it keeps for the next call.
    const bool trust_empty = !self->settings.peers_never_return;
    endpoint_type from;
    for (;;) {
      const datagram_pair room(asio::buffer(buffer), asio::buffer(second_buffer), &more, trust_empty);
      auto [ec, n] = co_await self->socket.async_receive_from(room, from, as_tuple_awaitable);
      if (self->closed.load()) co_return;
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        // An ICMP error reported on the socket: with IP_RECVERR its details wait in the error
        // queue; otherwise the retransmit timer copes.
        if (self->settings.peers_never_return) self->after_error(buffer);
        continue;
      }
      {
        std::lock_guard lock(self->stats_mutex);
        self->stats.datagrams_received += more.present ? 2 : 1;
      }
      self->handle_datagram(from, std::span<const char>(buffer.data(), n));
      if (more.present && !self->closed.load()) {
        self->handle_datagram(more.from, std::span<const char>(second_buffer.data(), more.size));
      }
    }
  }

  // After a receive reported an error (I/O thread): the peers named in the error queue are
  // judged only once every datagram that arrived before is handled. The kernel reports the
  // error first, and the last ACK from a peer that has just ended may still be queued: its
  // message arrived and must not turn into a dead letter.
  void after_error(std::vector<char>& buffer) {
    std::vector<endpoint_type> unreachable_peers;
    for (int round = 0; round < 16; ++round) {
      read_errors(unreachable_peers);
      if (drain_received(buffer)) break;
    }
    for (const auto& peer : unreachable_peers) unreachable(peer);
  }

  // Handles every datagram already in the socket (I/O thread), without waiting for more. True
  // when it was drained; false when a receive failed (an error the error queue may name).
  bool drain_received(std::vector<char>& buffer) {
    std::error_code ec;
    endpoint_type from;
    for (;;) {
      const std::size_t n = socket.receive_from(asio::buffer(buffer), from, 0, ec);
      if (ec) break;
      count(&udp_channel_statistics::datagrams_received);
      handle_datagram(from, std::span<const char>(buffer.data(), n));
    }
    return ec == asio::error::would_block || ec == asio::error::try_again;
  }

  // Drains the socket's error queue (I/O thread): each "port unreachable" names the peer a
  // datagram of ours could not reach.
  void read_errors(std::vector<endpoint_type>& unreachable_peers) {
    for (;;) {
      char data[64];
      char control[512];
      sockaddr_in offender{};
      iovec io_vector{data, sizeof data};
      msghdr header{};
      header.msg_name = &offender;
      header.msg_namelen = sizeof offender;
      header.msg_iov = &io_vector;
      header.msg_iovlen = 1;
      header.msg_control = control;
      header.msg_controllen = sizeof control;
      if (::recvmsg(socket.native_handle(), &header, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
        if (errno == EINTR) continue;
        return;  // empty
      }
      for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
        if (c->cmsg_level != SOL_IP || c->cmsg_type != IP_RECVERR) continue;
        sock_extended_err error{};
        std::memcpy(&error, CMSG_DATA(c), sizeof error);
        if (error.ee_origin == SO_EE_ORIGIN_ICMP && error.ee_errno == ECONNREFUSED &&
            offender.sin_family == AF_INET) {
          unreachable_peers.emplace_back(asio::ip::address_v4(ntohl(offender.sin_addr.s_addr)),
                                         ntohs(offender.sin_port));
        }
      }
    }
  }

  // On this host: whether some socket holds `peer`'s port (a plain bind of it fails); nullopt
  // for a peer elsewhere, or when the bind fails for another reason.
  static std::optional<bool> port_held(const endpoint_type& peer) {
    if (!peer.address().is_v4() || !peer.address().is_loopback()) return std::nullopt;
    const int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return std::nullopt;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(peer.address().to_v4().to_uint());
    address.sin_port = htons(peer.port());
    const int bound = ::bind(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int error = errno;
    ::close(probe);
    if (bound == 0) return false;
    if (error == EADDRINUSE) return true;
    return std::nullopt;
  }

  // Nothing listens on `peer`'s port now (udp_channel.hpp says when that means gone).
  void unreachable(const endpoint_type& peer) {
    auto link = find_link(peer);
    if (!link || link->queue.idle()) return;
    std::string why;
    const std::optional<bool> held = port_held(peer);
    if (held == false) {
      why = "the peer is gone (nothing holds its port)";
    } else if (held == true) {
      // Held but not listening: reserved for a process that is still starting (perhaps a new
      // one on an old peer's port, which will refuse the old peer's messages).
      return;
    } else if (link->ever_answered.load()) {
      why = "the peer is gone (its port is unreachable)";
    } else {
      const auto waited = outbound_queue::clock::now() -
                          outbound_queue::clock::time_point(
                              outbound_queue::clock::duration(link->waiting_since.load()));
      if (waited < settings.first_connect_grace) return;  // still starting, perhaps
      why = absl::StrFormat("the peer did not appear within %d ms (its port is unreachable)",
                            settings.first_connect_grace.count());
    }
    link->queue.peer_gone(why).run();
  }

  void drop(const endpoint_type& from, const std::string& why) {
    {
      std::lock_guard lock(stats_mutex);
      ++stats.malformed_dropped;
    }
    settings.report(absl::StrFormat("dropped a datagram from %s: %s", describe(from), why));
  }

  void handle_datagram(const endpoint_type& from, std::span<const char> bytes) {
    frame_decoder& decoder = datagram_decoder;
    decoder.feed(bytes);
    decode_result r = decoder.next();
    if (r.is_error() || r.needs_more() || decoder.buffered_bytes() != 0) {
      // Poisoned, or holding part of a frame: the next datagram gets a clean decoder.
      datagram_decoder = frame_decoder(max_udp_frame_size, /*datagram=*/true);
      if (r.is_error()) return drop(from, absl::StrFormat("%s: %s", to_string(r.error().kind), r.error().detail));
      return drop(from, "the datagram does not hold exactly one frame");
    }
    frame& f = r.value();
    if (f.kind == frame_kind::hello) return drop(from, "a hello frame belongs to streams only");
    if (f.kind == frame_kind::ack || f.kind == frame_kind::nack) {
      if (auto link = find_link(from)) {
        link->ever_answered.store(true);
        (f.kind == frame_kind::ack ? link->queue.acknowledge_one(f.sequence)
                                   : link->queue.refuse(f.sequence)).run();
        if (link->queue.try_take_turn()) transmit(*link);
      }
      return;
    }
    sender_state& sender = senders[from];
    const std::uint64_t sequence = f.sequence;
    if (auto seen = sender.filter.answered.find(sequence); seen != sender.filter.answered.end()) {
      count(&udp_channel_statistics::duplicates_dropped);
      send_datagram(from, answer_bytes(seen->second ? frame_kind::ack : frame_kind::nack, sequence,
                                      answer_buffer));
      return;
    }
    // The sender waits for nothing older than `oldest`: a gap before it will never fill.
    const std::uint64_t window = datagram_window(bytes);
    const std::uint64_t oldest = window > sequence ? 0 : sequence - window;
    if (!sender.started) {
      sender.started = true;
      sender.next = oldest;
    } else if (oldest > sender.next + new_incarnation_jump) {
      // A restarted sender on the same endpoint (its sequences start from its clock): deliver
      // what the old one left held, then follow the new one.
      give_up_before(from, sender, sender.held.empty() ? sender.next : sender.held.rbegin()->first + 1,
                     "its sender restarted");
      sender.next = oldest;
    } else if (oldest > sender.next) {
      give_up_before(from, sender, oldest, "its sender no longer waits for them");
    }
    if (sequence < sender.next) {
      count(&udp_channel_statistics::stale_dropped);  // behind a gap given up: its sender failed it
      return;
    }
    if (sequence != sender.next) {
      if (sender.held.contains(sequence)) {
        count(&udp_channel_statistics::duplicates_dropped);  // answered once delivered
      } else if (sender.held.size() >= reorder_capacity) {
        count(&udp_channel_statistics::reorder_overflow_dropped);  // comes again, retransmitted
      } else {
        sender.held.emplace(sequence, held_datagram{std::move(f), outbound_queue::clock::now()});
        count(&udp_channel_statistics::held_for_order);
      }
      return;
    }
    deliver_in_order(from, sender, std::move(f));
    deliver_held(from, sender);
  }

  void count(std::uint64_t udp_channel_statistics::*counter) {
    std::lock_guard lock(stats_mutex);
    ++(stats.*counter);
  }

  // Delivers `f` (the sender's next sequence) and answers it.
  void deliver_in_order(const endpoint_type& from, sender_state& sender, frame&& f) {
    const std::uint64_t sequence = f.sequence;
    bool taken = false;
    try {
      taken = deliver(std::move(f));
    } catch (const std::exception& e) {
      settings.report(absl::StrFormat("deliver handler threw (message answered NACK): %s", e.what()));
    }
    sender.filter.remember(sequence, taken);
    sender.next = sequence + 1;
    send_datagram(from, answer_bytes(taken ? frame_kind::ack : frame_kind::nack, sequence, answer_buffer));
  }

  // Delivers the held datagrams that are next in order.
  void deliver_held(const endpoint_type& from, sender_state& sender) {
    while (!sender.held.empty() && sender.held.begin()->first == sender.next) {
      frame f = std::move(sender.held.begin()->second.f);
      sender.held.erase(sender.held.begin());
      deliver_in_order(from, sender, std::move(f));
    }
  }

  // Gives up every missing sequence below `upto`: what is held below it is delivered in order,
  // the rest is counted as skipped and logged; then whatever follows in order.
  void give_up_before(const endpoint_type& from, sender_state& sender, std::uint64_t upto,
                      std::string_view why) {
    std::uint64_t skipped = 0;
    while (sender.next < upto) {
      if (sender.held.empty() || sender.held.begin()->first >= upto) {
        skipped += upto - sender.next;
        sender.next = upto;
        break;
      }
      const std::uint64_t first = sender.held.begin()->first;
      skipped += first - sender.next;
      sender.next = first;
      deliver_held(from, sender);
    }
    if (skipped > 0) {
      {
        std::lock_guard lock(stats_mutex);
        stats.gaps_skipped += skipped;
      }
      settings.report(absl::StrFormat("gave up %d datagram(s) from %s that never arrived: %s",
                                      skipped, describe(from), why));
    }
    deliver_held(from, sender);
  }

  // Gaps whose first held datagram has waited a whole transmit timeout: their sender has failed
  // the missing messages by now.
  void give_up_stale_gaps(outbound_queue::clock::time_point now) {
    for (auto& [from, sender] : senders) {
      while (!sender.held.empty() && now - sender.held.begin()->second.since >= settings.transmit_timeout) {
        give_up_before(from, sender, sender.held.begin()->first,
                       "a later datagram waited for them a whole transmit timeout");
      }
    }
  }

  // Whether any message waits for an outcome or any datagram is held for order (I/O thread).
  bool busy(const std::vector<std::shared_ptr<peer_link>>& links) const {
    for (const auto& link : links) {
      if (!link->queue.idle()) return true;
    }
    for (const auto& [from, sender] : senders) {
      if (!sender.held.empty()) return true;
    }
    return false;
  }

  // A channel with nothing in flight sweeps rarely (a process of the multi-process bases holds
  // two idle channels for most of its life); the first send wakes it (wake_sweep).
  static constexpr std::chrono::milliseconds idle_sweep{1000};

  // Any thread, after a frame was queued: a sweep sleeping the idle interval starts over at the
  // short one, so that the frame's retransmissions are on time.
  void wake_sweep() {
    if (sweep_idle.exchange(false)) asio::post(io, [this] { sweep_timer.cancel(); });
  }

  static asio::awaitable<void> sweep_loop(impl* self) {
    const auto interval = std::clamp<std::chrono::milliseconds>(
        std::min(self->settings.retransmit_initial / 2, self->settings.transmit_timeout / 8),
        std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
    auto next_wait = interval;
    while (!self->closed.load()) {
      self->sweep_timer.expires_after(next_wait);
      [[maybe_unused]] auto [ec] = co_await self->sweep_timer.async_wait(as_tuple_awaitable);
      if (self->closed.load()) co_return;
      // Idle first, then look (at every link, new ones included): a frame queued after the
      // look finds the flag set and wakes us.
      self->sweep_idle.store(true);
      std::vector<std::shared_ptr<peer_link>> links;
      {
        std::lock_guard lock(self->peers_mutex);
        for (auto& [peer, link] : self->peers) links.push_back(link);
      }
      if (self->busy(links)) {
        self->sweep_idle.store(false);
        next_wait = interval;
      } else {
        next_wait = std::max(interval, idle_sweep);
      }
      const auto now = outbound_queue::clock::now();
      self->give_up_stale_gaps(now);
      for (auto& link : links) {
        link->queue.expire(now).run();
        auto due = link->queue.due_for_retransmit(now);
        for (const auto& out : due) self->send_datagram(link->peer, out.bytes);
        if (!due.empty()) {
          std::lock_guard lock(self->stats_mutex);
          self->stats.retransmits += due.size();
        }
        if (link->queue.try_take_turn()) self->transmit(*link);
      }
    }
  }

  // The peer listens now (I/O thread): what waits for its answer goes again at once.
  void retransmit_now(peer_link& link) {
    if (closed.load()) return;
    const auto now = outbound_queue::clock::now();
    link.queue.retransmit_from(now);
    auto due = link.queue.due_for_retransmit(now);
    for (const auto& out : due) send_datagram(link.peer, out.bytes);
    std::lock_guard lock(stats_mutex);
    stats.retransmits += due.size();
  }

  // A handler that throws is reported; the I/O thread goes on.
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

  void shutdown() {
    std::error_code ignored;
    sweep_timer.cancel();
    {
      std::lock_guard lock(fd_mutex);
      fd = -1;
    }
    socket.close(ignored);
    std::vector<std::shared_ptr<peer_link>> links;
    {
      std::lock_guard lock(peers_mutex);
      for (auto& [peer, link] : peers) links.push_back(link);
    }
    for (auto& link : links) link->queue.close("the channel was closed").run();
    work.reset();
  }
};

udp_channel::udp_channel(const endpoint_type& bind_to, deliver_handler deliver,
                         transport_settings settings)
    : impl_(std::make_unique<impl>(bind_to, std::move(deliver), std::move(settings))) {
  asio::co_spawn(impl_->io, impl::receive_loop(impl_.get()), asio::detached);
  asio::co_spawn(impl_->io, impl::sweep_loop(impl_.get()), asio::detached);
  impl_->thread = std::thread([self = impl_.get()] { self->run_io(); });
}

udp_channel::~udp_channel() { close(); }

udp_channel::endpoint_type udp_channel::local_endpoint() const { return impl_->local; }

asio::any_io_executor udp_channel::get_executor() { return impl_->io.get_executor(); }

admission udp_channel::submit(const endpoint_type& peer, frame f, outcome_handler on_outcome,
                              admitted_handler on_admitted) {
  std::string bytes = encode_frame(f, max_udp_frame_size);
  auto link = impl_->link_for(peer);
  if (impl_->settings.peers_never_return && link->queue.idle()) {
    link->waiting_since.store(outbound_queue::clock::now().time_since_epoch().count());
  }
  auto action = outbound_queue::transmit_action::none;
  const admission how =
      link->queue.submit(std::move(bytes), std::move(on_outcome), std::move(on_admitted), action);
  if (action == outbound_queue::transmit_action::write_now) impl_->transmit(*link);
  impl_->wake_sweep();
  return how;
}

void udp_channel::close() {
  std::lock_guard lock(impl_->close_mutex);
  if (!impl_->closed.exchange(true)) {
    asio::post(impl_->io, [self = impl_.get()] { self->shutdown(); });
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

void udp_channel::peer_gone(const endpoint_type& peer, const std::string& reason) {
  auto link = impl_->find_link(peer);
  if (!link) return;
  // From now on "port unreachable" means gone too, however recently it was first tried.
  link->ever_answered.store(true);
  // An ACK the peer sent just before it ended may wait unread in the socket: the I/O thread
  // handles what is there first, so a message the peer took is not reported as lost.
  asio::post(impl_->io, [self = impl_.get(), link, reason] {
    if (self->closed.load()) return;  // shutdown failed what waited
    std::vector<char> buffer(max_udp_frame_size + 1);
    self->drain_received(buffer);
    link->queue.peer_gone(reason).run();
  });
}

void udp_channel::dial_now(const endpoint_type& peer) {
  auto link = impl_->find_link(peer);
  if (!link) return;
  // Retransmissions belong to the I/O thread, as in the sweep.
  asio::post(impl_->io, [self = impl_.get(), link] { self->retransmit_now(*link); });
}

std::size_t udp_channel::queue_depth(const endpoint_type& peer) const {
  auto link = impl_->find_link(peer);
  return link ? link->queue.depth() : 0;
}

std::size_t udp_channel::in_flight(const endpoint_type& peer) const {
  auto link = impl_->find_link(peer);
  return link ? link->queue.in_flight() : 0;
}

udp_channel_statistics udp_channel::statistics() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

}  // namespace thespian::transport
