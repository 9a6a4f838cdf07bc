// The datagram transport: one UDP socket per channel, bound to one endpoint, used both to send
// and to receive. Each message is one datagram (one frame); the receiver answers each data
// datagram with an ACK or NACK datagram carrying its sequence. Unanswered datagrams are sent
// again with exponential back-off (retransmit_initial doubling up to reconnect_max) until the
// answer or the transmit timeout; the receiver drops duplicates by (sender endpoint, sequence)
// and answers them again, so a lost ACK costs a retransmit, never a second delivery.
// A message whose frame exceeds the largest IPv4 UDP payload (65,507 bytes, within the codec's
// 64 KiB datagram limit) is refused at the sender with frame_too_large.
//
// Known limit: on loopback datagrams arrive in order, but a retransmitted datagram arrives after
// the ones sent behind it; there is no reorder buffer yet.
// Sequences start from the clock at construction, so a restarted sender on the same port is
// not mistaken for duplicates of its earlier incarnation.
#pragma once

#include <cstdint>
#include <memory>

#include <asio.hpp>

#include "transport/channel.hpp"
#include "transport/transport_settings.hpp"

namespace thespian::transport {

// The largest frame a datagram carries: the largest UDP payload over IPv4.
inline constexpr std::size_t max_udp_frame_size = 65507;

struct udp_channel_statistics {
  std::uint64_t datagrams_received = 0;
  std::uint64_t malformed_dropped = 0;   // not a valid frame (each also logged)
  std::uint64_t duplicates_dropped = 0;  // data datagrams seen before (answered again)
  std::uint64_t retransmits = 0;
};

class udp_channel final : public channel<asio::ip::udp::endpoint> {
 public:
  udp_channel(const endpoint_type& bind_to, deliver_handler deliver,
              transport_settings settings = transport_settings::from_environment());
  ~udp_channel() override;

  endpoint_type local_endpoint() const override;
  asio::any_io_executor get_executor() override;
  admission submit(const endpoint_type& peer, frame f, outcome_handler on_outcome,
                   admitted_handler on_admitted) override;
  // Must not be called from a handler running on this channel's I/O thread.
  void close() override;

  std::size_t queue_depth(const endpoint_type& peer) const;
  udp_channel_statistics statistics() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace thespian::transport
