// The incremental frame decoder: a transport feeds it the bytes it reads, in chunks of any size,
// and takes complete frames out. It never trusts a length field: a frame above the limit is
// refused from its header alone, and the buffer grows only as bytes actually arrive.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "transport/frame.hpp"

namespace thespian::transport {

// Why a byte stream is not a valid frame stream. The connection must be closed on any of them.
enum class frame_error : std::uint8_t {
  bad_magic,          // the first bytes are not "THSP"
  bad_version,        // a protocol version this build does not speak
  bad_kind,           // a frame kind outside frame_kind
  bad_reserved,       // a reserved header field is not zero
  too_large,          // the header announces a frame above the decoder's limit
  malformed_payload,  // cereal rejected the payload (short, impossible sizes, bad values)
  unknown_message,    // the payload names a message wire name this process has not registered
  trailing_bytes,     // the payload holds bytes after the message
  truncated,          // the stream ended inside a frame
};
inline constexpr std::size_t frame_error_count = 9;
std::string_view to_string(frame_error error) noexcept;

struct decode_error {
  frame_error kind;
  std::string detail;  // names what was wrong, e.g. the announced length and the limit
};

// Totals for the transports' logs; add those of many connections with +=.
struct decoder_counters {
  std::uint64_t frames = 0;      // complete frames decoded
  std::uint64_t frame_bytes = 0; // bytes of those frames, headers included
  std::uint64_t bytes_fed = 0;   // every byte given to feed() before an error
  std::array<std::uint64_t, frame_error_count> errors{};

  std::uint64_t errors_of(frame_error e) const noexcept {
    return errors[static_cast<std::size_t>(e)];
  }
  std::uint64_t total_errors() const noexcept;
  decoder_counters& operator+=(const decoder_counters& other) noexcept;
};

// What next() found: a frame, nothing complete yet, or a protocol error.
class decode_result {
 public:
  struct need_more {};

  decode_result(need_more) noexcept {}
  decode_result(frame f) : value_(std::move(f)) {}
  decode_result(decode_error e) : value_(std::move(e)) {}

  bool has_frame() const noexcept { return std::holds_alternative<frame>(value_); }
  bool needs_more() const noexcept { return std::holds_alternative<need_more>(value_); }
  bool is_error() const noexcept { return std::holds_alternative<decode_error>(value_); }
  // Precondition: has_frame() / is_error() respectively.
  frame& value() { return std::get<frame>(value_); }
  const decode_error& error() const { return std::get<decode_error>(value_); }

 private:
  std::variant<need_more, frame, decode_error> value_;
};

// One decoder per connection (or per datagram), used by one thread at a time.
// Usage: feed() what was read, then call next() until it stops returning frames. After an error
// the decoder is poisoned: feed() ignores its input and next() repeats the error; close the
// connection. At end of stream call finish() to learn whether it ended inside a frame.
class frame_decoder {
 public:
  // A datagram decoder accepts any datagram window (header bytes 12-15); a stream decoder
  // refuses a non-zero one as bad_reserved.
  explicit frame_decoder(std::size_t max_frame_size = default_max_stream_frame_size,
                         bool datagram = false);

  // Copies the bytes; the span may be reused as soon as feed() returns.
  void feed(std::span<const char> bytes);
  // Reading in place, without the copy of feed(): prepare(n) returns room for up to n bytes at
  // the end of the decoder's buffer (empty once poisoned); read into it, then commit() the
  // count actually read. The buffer grows only by what a caller asks to read, never by a length
  // field. Frames returned by next() own their data: prepare() may move the buffer.
  std::span<char> prepare(std::size_t max_bytes);
  void commit(std::size_t n);
  decode_result next();
  // The stream has ended: nullopt when it ended between frames, else a `truncated` error
  // (which poisons the decoder and is counted like any other).
  std::optional<decode_error> finish();

  bool poisoned() const noexcept { return error_.has_value(); }
  const decoder_counters& counters() const noexcept { return counters_; }
  std::size_t max_frame_size() const noexcept { return max_frame_size_; }
  // Bytes received but not yet returned as frames, and the memory held for them (tests, logs).
  std::size_t buffered_bytes() const noexcept { return end_ - start_; }
  // Those bytes (valid until the next prepare, feed or next): what a connection handed to
  // another reader carries over (stream_channel's duplex connections).
  std::span<const char> buffered() const noexcept { return {buffer_.get() + start_, end_ - start_}; }
  std::size_t buffer_capacity() const noexcept { return capacity_; }

 private:
  decode_result fail(frame_error kind, std::string detail);
  std::optional<decode_result> check_header_prefix(std::span<const char> head);

  std::size_t max_frame_size_;
  bool datagram_;
  std::unique_ptr<char[]> buffer_;  // capacity_ bytes; [start_, end_) received, not yet decoded
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  std::optional<decode_error> error_;
  decoder_counters counters_;
};

}  // namespace thespian::transport
