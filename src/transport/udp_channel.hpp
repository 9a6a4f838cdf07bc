// The datagram transport: one UDP socket per channel, bound to one endpoint, used both to send
// and to receive. Each message is one datagram (one frame); the receiver answers each data
// datagram with an ACK or NACK datagram carrying its sequence once it has delivered it.
// Unanswered datagrams are sent again with exponential back-off (retransmit_initial doubling up
// to reconnect_max) until the answer or the transmit timeout; the receiver drops duplicates by
// (sender endpoint, sequence) and answers them again, so a lost ACK costs a retransmit, never a
// second delivery. A message whose frame exceeds the largest IPv4 UDP payload (65,507 bytes,
// within the codec's 64 KiB datagram limit) is refused at the sender with frame_too_large.
//
// Order per sender: every data datagram carries its window (frame.hpp): how far its sequence is
// past the oldest one its sender still awaits an answer for. The receiver delivers each sender's
// datagrams in sequence order: one that arrives ahead of a gap is held (at most
// reorder_capacity per sender; beyond that it is dropped unanswered, counted, and comes again
// with the sender's retransmission) until the gap fills. A gap is given up, counted and logged,
// when the sender's window says it no longer waits for those sequences (it reported them
// failed), or when the oldest held datagram has waited a whole transmit timeout (by then the
// sender has failed them too): the held datagrams are then delivered in order.
// Sequences start from the clock at construction, so a restarted sender on the same port is
// not mistaken for duplicates of its earlier incarnation, and its window starts it afresh.
//
// UDP has no connection to refuse, so with settings.peers_never_return the socket asks for ICMP
// errors (IP_RECVERR). A "port unreachable" for a peer on this host means it is gone when no
// socket holds its port (a plain bind of it succeeds); a port that is held but not listened on
// is reserved for a peer still starting (system/multiproc/system_route.hpp), which is simply
// retransmitted to. For a peer elsewhere it means gone when the peer answered before, or has
// not answered for first_connect_grace. Messages to a gone peer get no_such_target at once. settings.reuse_port binds with SO_REUSEPORT (a reserved port).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <asio.hpp>

#include "transport/channel.hpp"
#include "transport/transport_settings.hpp"

namespace thespian::transport {

// The largest frame a datagram carries: the largest UDP payload over IPv4.
inline constexpr std::size_t max_udp_frame_size = 65507;
// Datagrams held per sender while they wait for an earlier sequence.
inline constexpr std::size_t reorder_capacity = 1024;

struct udp_channel_statistics {
  std::uint64_t datagrams_received = 0;
  std::uint64_t malformed_dropped = 0;   // not a valid frame (each also logged)
  std::uint64_t duplicates_dropped = 0;  // data datagrams seen before (answered again)
  std::uint64_t retransmits = 0;
  std::uint64_t held_for_order = 0;     // data datagrams that arrived ahead of a gap and waited
  std::uint64_t reorder_overflow_dropped = 0;  // dropped unanswered: the sender's hold was full
  std::uint64_t gaps_skipped = 0;       // sequences given up (never arrived; the sender failed them)
  std::uint64_t stale_dropped = 0;      // data datagrams older than a gap already given up
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

  // Any thread: `peer` will never be reachable again (the caller knows, e.g. its process was
  // reported dead); every message to it whose outcome is not known gets no_such_target, on
  // the I/O thread once the datagrams already received are handled (an ACK the peer sent
  // before it ended still counts).
  void peer_gone(const endpoint_type& peer, const std::string& reason);
  // Any thread: `peer` listens now (the caller was told): what waits for its answer is sent
  // again at once, without waiting out the retransmit back-off.
  void dial_now(const endpoint_type& peer);

  std::size_t queue_depth(const endpoint_type& peer) const;
  std::size_t in_flight(const endpoint_type& peer) const;
  udp_channel_statistics statistics() const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace thespian::transport
