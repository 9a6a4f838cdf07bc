// The acceptance test of issue 3 for TCP: 100,000 messages to a peer that is torn down and
// re-created on the same port midway. No acknowledged message is lost, none is delivered twice,
// each incarnation sees its messages in order, and every message gets exactly one outcome
// (the unacknowledged ones: failed, with the reason).
#include <boost/test/unit_test.hpp>

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "transport/stream_channel.hpp"

namespace {

using namespace std::chrono_literals;
using thespian::transport::frame;
using thespian::transport::send_status;
using thespian::transport::tcp_channel;

// Records which message indices arrived, per incarnation of the peer.
class numbered_inbox {
 public:
  explicit numbered_inbox(std::size_t n) : times_received_(n, 0) {}
  thespian::transport::deliver_handler handler(int incarnation) {
    return [this, incarnation](frame&& f) {
      const std::size_t i = std::stoul(f.message.as<std::string>());
      std::lock_guard lock(mutex_);
      ++times_received_.at(i);
      order_[incarnation].push_back(i);
      return true;
    };
  }
  std::size_t received_by(int incarnation) const {
    std::lock_guard lock(mutex_);
    return order_[incarnation].size();
  }
  std::size_t times_received(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return times_received_.at(i);
  }
  bool in_order(int incarnation) const {
    std::lock_guard lock(mutex_);
    return std::is_sorted(order_[incarnation].begin(), order_[incarnation].end());
  }

 private:
  mutable std::mutex mutex_;
  std::vector<int> times_received_;
  std::vector<std::size_t> order_[2];
};

}  // namespace

BOOST_AUTO_TEST_SUITE(transport_peer_restart)

BOOST_AUTO_TEST_CASE(no_acknowledged_message_is_lost_when_the_tcp_peer_restarts_midway) {
  const std::size_t n = 100000;
  thespian::transport::transport_settings s;
  s.reconnect_initial = 5ms;
  s.reconnect_max = 50ms;
  s.transmit_timeout = 60s;
  s.log = [](std::string_view) {};
  numbered_inbox inbox(n);
  transport_support::outcomes results(n);
  auto target = unit_support::make_recording_endpoint();

  auto peer = std::make_unique<tcp_channel>(asio::ip::tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0},
                                            inbox.handler(0), s);
  const auto at = peer->local_endpoint();
  tcp_channel sender(s);
  std::thread sending([&] {
    for (std::size_t i = 0; i < n; ++i) {
      sender.send(at, transport_support::text_frame(thespian::ActorAddress(target), std::to_string(i)),
                  results.handler(i));
    }
  });

  BOOST_TEST_REQUIRE(transport_support::eventually([&] { return inbox.received_by(0) >= n / 2; }, 60000ms));
  peer.reset();  // killed midway...
  peer = std::make_unique<tcp_channel>(at, inbox.handler(1), s);  // ...and back on the same port
  sending.join();
  BOOST_TEST_REQUIRE(results.wait_for(n, 60s));

  std::size_t delivered = 0, failed = 0, reported_twice = 0, lost = 0, duplicated = 0;
  for (std::size_t i = 0; i < n; ++i) {
    reported_twice += results.times_reported(i) != 1;
    duplicated += inbox.times_received(i) > 1;
    const auto o = results.at(i);
    if (o.status == send_status::delivered) {
      ++delivered;
      lost += inbox.times_received(i) != 1;
    } else {
      ++failed;
      BOOST_TEST_REQUIRE((o.status == send_status::failed));
      BOOST_TEST_REQUIRE(unit_support::contains(o.reason, "before the message was acknowledged"));
    }
  }
  BOOST_TEST_MESSAGE("delivered " << delivered << ", failed " << failed << ", first incarnation received "
                                  << inbox.received_by(0) << ", second " << inbox.received_by(1));
  BOOST_TEST(reported_twice == 0u);
  BOOST_TEST(lost == 0u);
  BOOST_TEST(duplicated == 0u);
  BOOST_TEST(delivered + failed == n);
  BOOST_TEST(inbox.received_by(1) > 0u);  // the sender reconnected to the new incarnation
  BOOST_TEST(inbox.in_order(0));
  BOOST_TEST(inbox.in_order(1));
  BOOST_TEST(sender.statistics().connects == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
