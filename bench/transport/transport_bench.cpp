// Transport benchmark: for TCP and UNIX stream sockets (and UDP, round trip only) on loopback, (1) round trip with one
// message in flight (send a 64-byte-payload frame, wait for its ACK) and (2) pipelined
// throughput (one sending thread, the outcome of every message awaited), each next to a raw
// socket baseline measured in the same run: blocking send/recv of the very same frame bytes
// (round trip: frame out, ACK-sized answer back; throughput: one send() per frame, the reader
// draining 64 KiB at a time). Pipelined runs are measured with max_in_flight at the default
// (transport_settings: 448) and at another window (950 unless given), and at the default window
// with the receiving channel in a forked child process (as between two actor processes). Usage:
// transport_bench [round_trips] [messages] [repeats] [only] [in_flight]; the best of `repeats`
// runs is printed, and for round trips also the median of each repeat's channel/raw ratio.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>

#include "core/endpoint.hpp"
#include "thespian/address.hpp"
#include "transport/stream_channel.hpp"
#include "transport/udp_channel.hpp"

using bench_clock = std::chrono::steady_clock;
using thespian::transport::frame;
using thespian::transport::frame_kind;
using thespian::transport::send_outcome;
using thespian::transport::send_status;

namespace {

// The target the frames name: the benchmark only needs its address on the wire.
class sink_endpoint final : public thespian::detail::endpoint {
 public:
  using endpoint::endpoint;
  bool deliver(thespian::detail::envelope&&) override { return true; }
};

struct fixture {
  thespian::detail::endpoint_ref<sink_endpoint> target =
      thespian::detail::make_endpoint<sink_endpoint>(0xbe9c400000ULL, 1);
  frame sample() const {
    return frame{frame_kind::data, 0, thespian::ActorAddress(target), thespian::ActorAddress(),
                 thespian::Message(std::string(64, 'p'))};
  }
  std::string frame_bytes() const {
    return thespian::transport::encode_frame(sample(), thespian::transport::default_max_stream_frame_size);
  }
  std::string ack_bytes() const {
    return thespian::transport::encode_frame(frame{frame_kind::ack, 1, {}, {}, {}}, 1 << 20);
  }
};

// The default settings, not read from the environment; the pipelined runs also measure with
// max_in_flight at pipelined_in_flight (the high-water mark unless given).
std::size_t pipelined_in_flight = 950;
const std::size_t default_in_flight = thespian::transport::transport_settings{}.max_in_flight;
thespian::transport::transport_settings bench_settings(std::size_t max_in_flight = default_in_flight) {
  thespian::transport::transport_settings s;
  s.transmit_timeout = std::chrono::minutes(1);
  s.max_in_flight = max_in_flight;
  return s;
}

double seconds_since(bench_clock::time_point start) {
  return std::chrono::duration<double>(bench_clock::now() - start).count();
}

template <class Protocol>
struct protocol_traits;

template <>
struct protocol_traits<asio::ip::tcp> {
  static constexpr const char* name = "tcp";
  static asio::ip::tcp::endpoint listen() { return {asio::ip::make_address("127.0.0.1"), 0}; }
  static void tune(asio::ip::tcp::socket& s) { s.set_option(asio::ip::tcp::no_delay(true)); }
};

template <>
struct protocol_traits<asio::local::stream_protocol> {
  static constexpr const char* name = "unix";
  static asio::local::stream_protocol::endpoint listen() {
    static int n = 0;
    return asio::local::stream_protocol::endpoint("/tmp/thespian-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  }
  static void tune(asio::local::stream_protocol::socket&) {}
};

// --- raw baselines --------------------------------------------------------------------------

template <class Protocol>
double raw_round_trip_ns(const fixture& fx, std::size_t n) {
  using traits = protocol_traits<Protocol>;
  const std::string out = fx.frame_bytes();
  const std::string answer = fx.ack_bytes();
  asio::io_context io;
  auto at = traits::listen();
  typename Protocol::acceptor acceptor(io, at);
  std::thread server([&] {
    typename Protocol::socket s(io);
    acceptor.accept(s);
    traits::tune(s);
    std::string in(out.size(), '\0');
    for (std::size_t i = 0; i < n; ++i) {
      asio::read(s, asio::buffer(in));
      asio::write(s, asio::buffer(answer));
    }
  });
  typename Protocol::socket c(io);
  c.connect(acceptor.local_endpoint());
  traits::tune(c);
  std::string back(answer.size(), '\0');
  const auto start = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    asio::write(c, asio::buffer(out));
    asio::read(c, asio::buffer(back));
  }
  const double elapsed = seconds_since(start);
  server.join();
  if constexpr (std::is_same_v<Protocol, asio::local::stream_protocol>) ::unlink(at.path().c_str());
  return elapsed * 1e9 / static_cast<double>(n);
}

template <class Protocol>
double raw_throughput(const fixture& fx, std::size_t n) {
  using traits = protocol_traits<Protocol>;
  const std::string out = fx.frame_bytes();
  asio::io_context io;
  auto at = traits::listen();
  typename Protocol::acceptor acceptor(io, at);
  std::thread server([&] {
    typename Protocol::socket s(io);
    acceptor.accept(s);
    std::vector<char> buffer(64 << 10);
    std::size_t left = n * out.size();
    while (left > 0) left -= s.read_some(asio::buffer(buffer.data(), std::min(buffer.size(), left)));
    asio::write(s, asio::buffer(out.data(), 1));  // "all read"
  });
  typename Protocol::socket c(io);
  c.connect(acceptor.local_endpoint());
  traits::tune(c);
  const auto start = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) asio::write(c, asio::buffer(out));
  char done;
  asio::read(c, asio::buffer(&done, 1));
  const double elapsed = seconds_since(start);
  server.join();
  if constexpr (std::is_same_v<Protocol, asio::local::stream_protocol>) ::unlink(at.path().c_str());
  return static_cast<double>(n) / elapsed;
}

// --- the channel ----------------------------------------------------------------------------

template <class Channel>
asio::awaitable<void> round_trips(Channel* sender, typename Channel::endpoint_type peer,
                                  const fixture* fx, std::size_t n, double* ns) {
  const auto start = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    frame f = fx->sample();
    send_outcome o = co_await sender->async_send_and_wait(peer, std::move(f), asio::use_awaitable);
    if (o.status != send_status::delivered) {
      std::fprintf(stderr, "round trip %zu failed: %s\n", i, o.reason.c_str());
      std::exit(1);
    }
  }
  *ns = seconds_since(start) * 1e9 / static_cast<double>(n);
}

template <class Protocol>
double channel_round_trip_ns(const fixture& fx, std::size_t n) {
  using channel = thespian::transport::stream_channel<Protocol>;
  channel receiver(protocol_traits<Protocol>::listen(), [](frame&&) { return true; }, bench_settings());
  channel sender(bench_settings());
  double ns = 0;
  // The coroutine runs on the sender's I/O thread, as a sending actor would: no thread hop.
  auto done = asio::co_spawn(sender.get_executor(),
                             round_trips(&sender, receiver.local_endpoint(), &fx, n, &ns),
                             asio::use_future);
  done.get();
  return ns;
}

// A counter on a cache line of its own. The receiving thread bumps one, the sender's I/O thread
// the other; next to each other or to the sending thread's locals (the channels' pointers, read
// on every send) each bump moved a line between the cores: perf put ~10% of all samples of the
// pipelined run in the receiver's one-line deliver handler before they were apart.
struct alignas(64) line_counter {
  std::atomic<std::size_t> value{0};
};

// Sends `n` samples from `sender` to `peer` back to back and waits for every ACK; seconds taken.
// A send that is not delivered ends the bench.
template <class Channel, class Endpoint>
double send_pipelined(Channel& sender, const Endpoint& peer, const fixture& fx, std::size_t n) {
  line_counter acknowledged_line;
  std::atomic<std::size_t>& acknowledged = acknowledged_line.value;
  const auto start = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    sender.send(peer, fx.sample(), [&acknowledged](send_outcome o) {
      if (o.status != send_status::delivered) {
        std::fprintf(stderr, "pipelined send failed: %s\n", o.reason.c_str());
        std::exit(1);
      }
      acknowledged.fetch_add(1, std::memory_order_release);
    });
  }
  while (acknowledged.load(std::memory_order_acquire) < n) std::this_thread::yield();
  return seconds_since(start);
}

template <class Protocol>
double channel_throughput(const fixture& fx, std::size_t n, std::size_t max_in_flight) {
  using channel = thespian::transport::stream_channel<Protocol>;
  line_counter delivered_line;
  std::atomic<std::size_t>& delivered = delivered_line.value;
  channel receiver(protocol_traits<Protocol>::listen(), [&](frame&&) {
    delivered.fetch_add(1, std::memory_order_relaxed);
    return true;
  }, bench_settings());
  channel sender(bench_settings(max_in_flight));
  const double elapsed = send_pipelined(sender, receiver.local_endpoint(), fx, n);
  if (delivered.load() != n) {
    std::fprintf(stderr, "delivered %zu of %zu\n", delivered.load(), n);
    std::exit(1);
  }
  return static_cast<double>(n) / elapsed;
}

// Reads or writes exactly `size` bytes of a pipe; false at EOF or on an error.
bool read_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t got = ::read(fd, p, size);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    size -= static_cast<std::size_t>(got);
  }
  return true;
}
bool write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t put = ::write(fd, p, size);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    p += put;
    size -= static_cast<std::size_t>(put);
  }
  return true;
}

// channel_throughput with the receiving channel in a child process, as between two actor
// processes. In one process the receiver resolves each frame's target to the very endpoint the
// sending thread's frames hold, so both cores bump its reference count on every message (perf:
// ~9% of the samples in shared_ptr releases, split between the two threads); two processes each
// have their own. The child keeps the target alive and known (remember_endpoint), as a process
// whose actor receives the messages does, reports its endpoint, then, once told the run is over,
// how many frames it delivered. On this VM it measured no faster than the one-process run
// (2026-12-06, docs/benchmarks.md): what the shared counts cost, the switches between two
// address spaces cost too.
template <class Protocol>
double channel_throughput_two_processes(const fixture& fx, std::size_t n, std::size_t max_in_flight) {
  using channel = thespian::transport::stream_channel<Protocol>;
  using endpoint_type = typename Protocol::endpoint;
  int to_parent[2];
  int to_child[2];
  if (::pipe(to_parent) != 0 || ::pipe(to_child) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (child == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    thespian::detail::remember_endpoint(fx.target);
    std::size_t delivered = 0;  // the I/O thread's alone until the channel is closed
    {
      channel receiver(protocol_traits<Protocol>::listen(), [&delivered](frame&&) {
        ++delivered;
        return true;
      }, bench_settings());
      const endpoint_type at = receiver.local_endpoint();
      const std::size_t size = at.size();
      char done = 0;
      if (!write_all(to_parent[1], &size, sizeof(size)) || !write_all(to_parent[1], at.data(), size) ||
          !read_all(to_child[0], &done, 1)) {
        ::_exit(1);
      }
      receiver.close();
      if constexpr (std::is_same_v<Protocol, asio::local::stream_protocol>) ::unlink(at.path().c_str());
    }
    ::_exit(write_all(to_parent[1], &delivered, sizeof(delivered)) ? 0 : 1);
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  endpoint_type peer;
  std::size_t size = 0;
  if (!read_all(to_parent[0], &size, sizeof(size)) || size > peer.capacity() ||
      !read_all(to_parent[0], peer.data(), size)) {
    std::fprintf(stderr, "the receiving child did not report its endpoint\n");
    std::exit(1);
  }
  peer.resize(size);  // after the bytes: a UNIX endpoint's resize() reads its path's last byte
  double rate = 0;
  {
    channel sender(bench_settings(max_in_flight));
    rate = static_cast<double>(n) / send_pipelined(sender, peer, fx, n);
  }
  const char done = 1;
  std::size_t delivered = 0;
  const bool reported = write_all(to_child[1], &done, 1) && read_all(to_parent[0], &delivered, sizeof(delivered));
  ::close(to_child[1]);
  ::close(to_parent[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!reported || delivered != n || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "the receiving child delivered %zu of %zu (exit status %d)\n", delivered, n, status);
    std::exit(1);
  }
  return rate;
}

// Which parts run: all, or only those whose "<transport>-<part>-<raw|channel>" name (e.g.
// tcp-pipelined-channel, tcp-pipelined-default-channel, tcp-pipelined-2proc-channel, unix-round-trip) contains the fourth argument; handy under a profiler.
std::string only;
bool wanted(const char* transport, const char* part) {
  return only.empty() || (std::string(transport) + "-" + part).find(only) != std::string::npos;
}

// On a loaded machine the best raw run and the best channel run may come from quiet moments far
// apart; each repeat's channel/raw ratio pairs two runs measured back to back, and their median
// is printed next to the ratio of the bests.
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void print_round_trip(const char* name, double raw_rt, double ch_rt, const std::vector<double>& paired) {
  std::printf("%-5s round trip   raw %9.0f ns   channel %9.0f ns   channel/raw %5.2fx  "
              "paired median %5.2fx  (goal <= 1.50x)\n",
              name, raw_rt, ch_rt, ch_rt / raw_rt, median(paired));
}

template <class Protocol>
void run(const fixture& fx, std::size_t round_trip_count, std::size_t message_count, int repeats) {
  const char* name = protocol_traits<Protocol>::name;
  double raw_rt = 1e30, ch_rt = 1e30, raw_tp = 0, ch_tp = 0, ch_tp_default = 0, ch_tp_two = 0;
  std::vector<double> paired;
  const bool rt = wanted(name, "round-trip-raw") || wanted(name, "round-trip-channel");
  const bool tp = wanted(name, "pipelined-raw") || wanted(name, "pipelined-channel") ||
                  wanted(name, "pipelined-default-channel") || wanted(name, "pipelined-2proc-channel");
  for (int r = 0; r < repeats; ++r) {
    double raw_now = 0, ch_now = 0;
    if (wanted(name, "round-trip-raw")) raw_rt = std::min(raw_rt, raw_now = raw_round_trip_ns<Protocol>(fx, round_trip_count));
    if (wanted(name, "round-trip-channel")) ch_rt = std::min(ch_rt, ch_now = channel_round_trip_ns<Protocol>(fx, round_trip_count));
    if (raw_now > 0 && ch_now > 0) paired.push_back(ch_now / raw_now);
    if (wanted(name, "pipelined-raw")) raw_tp = std::max(raw_tp, raw_throughput<Protocol>(fx, message_count));
    if (wanted(name, "pipelined-channel")) ch_tp = std::max(ch_tp, channel_throughput<Protocol>(fx, message_count, pipelined_in_flight));
    if (wanted(name, "pipelined-default-channel")) ch_tp_default = std::max(ch_tp_default, channel_throughput<Protocol>(fx, message_count, default_in_flight));
    if (wanted(name, "pipelined-2proc-channel")) ch_tp_two = std::max(ch_tp_two, channel_throughput_two_processes<Protocol>(fx, message_count, default_in_flight));
  }
  if (!rt && !tp) return;
  if (rt) print_round_trip(name, raw_rt, ch_rt, paired);
  if (tp) {
    // Issue 3's line (>= 3M msg/s on one connection) is read on the last line: the connection
    // between two processes, as between actor processes. With both ends in one process, the
    // receiver resolves each frame to the very endpoint whose count the sender bumps per
    // message, a cost no real connection has (docs/benchmarks.md, transport5).
    std::printf("%-5s pipelined    raw %9.0f msg/s   channel %9.0f msg/s   channel/raw %5.2fx  (%zu in flight)\n",
                name, raw_tp, ch_tp, ch_tp / raw_tp, pipelined_in_flight);
    std::printf("%-5s pipelined    raw %9.0f msg/s   channel %9.0f msg/s   channel/raw %5.2fx  (%zu in flight, the default)\n",
                name, raw_tp, ch_tp_default, ch_tp_default / raw_tp, default_in_flight);
    std::printf("%-5s pipelined    raw %9.0f msg/s   channel %9.0f msg/s   channel/raw %5.2fx  (%zu in flight, receiver in a child process)%s\n",
                name, raw_tp, ch_tp_two, ch_tp_two / raw_tp, default_in_flight,
                std::string(name) == "tcp" ? "  (goal >= 3M msg/s)" : "");
  }
  std::fflush(stdout);
}

// UDP: one datagram out, the ACK-sized datagram back.
double raw_udp_round_trip_ns(const fixture& fx, std::size_t n) {
  using udp = asio::ip::udp;
  const std::string out = fx.frame_bytes();
  const std::string answer = fx.ack_bytes();
  asio::io_context io;
  udp::socket server(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  udp::socket client(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::thread echo([&] {
    std::vector<char> in(out.size() + 1);
    udp::endpoint from;
    for (std::size_t i = 0; i < n; ++i) {
      server.receive_from(asio::buffer(in), from);
      server.send_to(asio::buffer(answer), from);
    }
  });
  std::vector<char> back(answer.size() + 1);
  // Asked once: local_endpoint() is a getsockname() call, which the baseline must not pay for.
  const udp::endpoint to = server.local_endpoint();
  const auto start = bench_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    client.send_to(asio::buffer(out), to);
    client.receive(asio::buffer(back));
  }
  const double elapsed = seconds_since(start);
  echo.join();
  return elapsed * 1e9 / static_cast<double>(n);
}

double channel_udp_round_trip_ns(const fixture& fx, std::size_t n) {
  using thespian::transport::udp_channel;
  const asio::ip::udp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  udp_channel receiver(loopback, [](frame&&) { return true; }, bench_settings());
  udp_channel sender(loopback, [](frame&&) { return true; }, bench_settings());
  double ns = 0;
  auto done = asio::co_spawn(sender.get_executor(),
                             round_trips(&sender, receiver.local_endpoint(), &fx, n, &ns),
                             asio::use_future);
  done.get();
  return ns;
}

void run_udp(const fixture& fx, std::size_t round_trip_count, int repeats) {
  if (!wanted("udp", "round-trip-raw") && !wanted("udp", "round-trip-channel")) return;
  double raw_rt = 1e30, ch_rt = 1e30;
  std::vector<double> paired;
  for (int r = 0; r < repeats; ++r) {
    const double raw_now = raw_udp_round_trip_ns(fx, round_trip_count);
    const double ch_now = channel_udp_round_trip_ns(fx, round_trip_count);
    raw_rt = std::min(raw_rt, raw_now);
    ch_rt = std::min(ch_rt, ch_now);
    paired.push_back(ch_now / raw_now);
  }
  print_round_trip("udp", raw_rt, ch_rt, paired);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t round_trip_count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  const std::size_t message_count = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  if (argc > 4) only = argv[4];
  if (argc > 5) pipelined_in_flight = std::strtoull(argv[5], nullptr, 10);
  fixture fx;
  std::printf("frame of a 64-byte payload: %zu bytes on the wire, ACK frame %zu bytes; best of %d runs; "
              "%zu round trips, %zu pipelined messages\n",
              fx.frame_bytes().size(), fx.ack_bytes().size(), repeats, round_trip_count, message_count);
  run<asio::ip::tcp>(fx, round_trip_count, message_count, repeats);
  run<asio::local::stream_protocol>(fx, round_trip_count, message_count, repeats);
  run_udp(fx, round_trip_count, repeats);
  return 0;
}
