// The wire frame every transport (TCP, UDP, pipe) sends: a fixed 24-byte header followed by a
// cereal PortableBinary payload holding the target address, the sender address and the Message.
// This file encodes frames; frame_decoder.hpp turns a byte stream back into frames.
//
// Header (all integers little-endian, the byte order cereal's portable binary archive writes):
//   offset  size  field
//        0     4  magic "THSP"
//        4     1  protocol version (frame_protocol_version)
//        5     1  kind (frame_kind: data, ack, nack, hello, origin)
//        6     2  reserved, zero
//        8     4  payload length in bytes (u32)
//       12     4  datagram window (u32): in a data datagram, its sequence minus the oldest
//                 sequence its sender still awaits an answer for (the receiver's reorder buffer
//                 waits for nothing older); zero in stream frames and in ACK/NACK frames
//       16     8  sequence number (u64): matches an ACK/NACK to its data frame, drops duplicates
// Payload: one PortableBinaryOutputArchive holding (target, sender, message), nothing after it.
// Version 2 gave bytes 12-15 their meaning (version 1: reserved, zero).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "thespian/address.hpp"
#include "thespian/errors.hpp"
#include "thespian/message.hpp"

namespace thespian::transport {

inline constexpr std::array<char, 4> frame_magic{'T', 'H', 'S', 'P'};
inline constexpr std::uint8_t frame_protocol_version = 2;
inline constexpr std::size_t frame_header_size = 24;
// The largest frame (header + payload) a transport sends or accepts, unless configured.
inline constexpr std::size_t default_max_stream_frame_size = std::size_t{64} << 20;   // 64 MiB
inline constexpr std::size_t default_max_datagram_frame_size = std::size_t{64} << 10;  // 64 KiB

enum class frame_kind : std::uint8_t {
  data = 1,  // carries a message for `target`
  ack = 2,   // the data frame with this sequence number was delivered
  nack = 3,  // the data frame with this sequence number found no target (dead letter)
  hello = 4, // streams: the first frame of a reverse connection; its sequence names the dialler,
             // which then receives data frames on it (stream_channel.hpp)
  origin = 5, // streams: the first frame of a duplex connection; its sequence names the
              // dialler's route, to which the acceptor may send its own data frames on this
              // connection, their answers coming back on it too (stream_channel.hpp)
};
std::string_view to_string(frame_kind kind) noexcept;

struct frame {
  frame_kind kind = frame_kind::data;
  std::uint64_t sequence = 0;
  ActorAddress target;  // null in ACK/NACK frames unless the transport chooses otherwise
  ActorAddress sender;
  Message message;      // empty in ACK/NACK frames unless the transport chooses otherwise

  friend bool operator==(const frame&, const frame&) = default;
};

// encode_frame refused a frame whose encoding (header included) is larger than allowed.
class frame_too_large : public ActorSystemException {
 public:
  frame_too_large(std::size_t frame_size, std::size_t max_size);
  std::size_t frame_size() const noexcept { return frame_size_; }
  std::size_t max_size() const noexcept { return max_size_; }

 private:
  std::size_t frame_size_;
  std::size_t max_size_;
};

// The bytes of `f` on the wire. Any thread may call it. Throws frame_too_large (naming both
// sizes) when the whole frame would exceed max_size (never more than the header's u32 length
// allows); memory used stays within max_size even then. UnserializableMessage propagates for a
// message (or a nested one) whose type has no THESPIAN_MESSAGE registration.
std::string encode_frame(const frame& f, std::size_t max_size);

// The datagram window of an encoded frame (header bytes 12-15); frame_bytes holds a full header.
std::uint32_t datagram_window(std::span<const char> frame_bytes) noexcept;
void set_datagram_window(std::span<char> frame_bytes, std::uint32_t window) noexcept;
// The same bytes appended to `out` (the hot path: a reused buffer, no allocation per frame once
// it has grown). On any exception `out` is left as it was.
void encode_frame_into(const frame& f, std::size_t max_size, std::string& out);

}  // namespace thespian::transport
