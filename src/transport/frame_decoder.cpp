// The incremental frame decoder (see frame_decoder.hpp). The header is checked field by field
// as soon as each field's bytes are present, so garbage is refused early; the payload is read
// by cereal straight out of the buffer, and every failure becomes a decode_error value.
#include "transport/frame_decoder.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <exception>
#include <istream>
#include <new>
#include <stdexcept>
#include <streambuf>

#include <absl/strings/escaping.h>
#include <absl/strings/str_format.h>
#include <cereal/archives/portable_binary.hpp>

#include "core/endpoint.hpp"
#include "core/wire_budget.hpp"
#include "transport/archive_reuse.hpp"

namespace thespian::transport {
namespace {

// Above this, an empty buffer gives its memory back (after a large frame).
constexpr std::size_t retained_capacity = std::size_t{1} << 20;

// Reads a span without copying it; remaining() tells whether cereal left bytes unread.
class span_source final : public std::streambuf, public detail::wire_byte_source {
 public:
  span_source() = default;
  // Points the source at another payload (a streambuf constructs a std::locale: reuse one).
  void bind(std::span<const char> bytes) {
    char* begin = const_cast<char*>(bytes.data());  // never written: no put area
    setg(begin, begin, begin + bytes.size());
  }
  std::size_t remaining() const noexcept override { return static_cast<std::size_t>(egptr() - gptr()); }

 protected:
  // Every cereal load is one sgetn: one bounds check and one memcpy (the generic xsgetn loops).
  std::streamsize xsgetn(char* s, std::streamsize n) override {
    const std::size_t count = std::min(static_cast<std::size_t>(n), remaining());
    if (count == 0) return 0;  // an empty container's data() may be null
    std::memcpy(s, gptr(), count);
    setg(eback(), gptr() + count, egptr());
    return static_cast<std::streamsize>(count);
  }
};

struct payload_reader {
  span_source source;
  std::istream in{&source};
  // Reused from frame to frame (archive_reuse.hpp); built reading the endianness byte 1, the
  // byte of every payload that takes the fast path.
  archive_reuse::reusable<cereal::PortableBinaryInputArchive, std::istream> archive{in};
  bool taken = false;
};

// Every width is a constant at its call: inlined, a little-endian host reads it with one load.
// (As a byte loop, which the compiler did not turn into loads, it was ~120 instructions a frame.)
[[gnu::always_inline]] inline std::uint64_t get_le(const char* in, std::size_t width) {
  if constexpr (std::endian::native == std::endian::little) {
    if (width == 8) {
      std::uint64_t v;
      std::memcpy(&v, in, sizeof(v));
      return v;
    }
    if (width == 4) {
      std::uint32_t v;
      std::memcpy(&v, in, sizeof(v));
      return v;
    }
    if (width == 2) {
      std::uint16_t v;
      std::memcpy(&v, in, sizeof(v));
      return v;
    }
  }
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    value |= std::uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  }
  return value;
}

std::string printable(std::span<const char> bytes) {
  return absl::CHexEscape(absl::string_view(bytes.data(), bytes.size()));
}

std::string printable(std::string_view text) {
  return absl::CHexEscape(absl::string_view(text.data(), text.size()));
}

// Reads the envelope of a little-endian payload (after its endianness byte) exactly as
// ActorAddress::load and Message::load would through cereal, and refuses what they refuse:
// an address is a presence byte (0 or 1) then, when present, its system id and endpoint id
// (u64 each); the message starts with its wire name, a u64 length then that many bytes.
// Every read is checked against the bytes left, so nothing is sized by the input.
class envelope_reader {
 public:
  explicit envelope_reader(std::span<const char> payload) : bytes_(payload) {}

  bool address(ActorAddress& a) {
    if (!take(1, "an address")) return false;
    const auto present = static_cast<std::uint8_t>(bytes_[at_ - 1]);
    if (present > 1) {
      error_ = absl::StrFormat("malformed ActorAddress: presence byte %d", present);
      return false;
    }
    if (present == 0) {
      a = ActorAddress();
      return true;
    }
    if (!take(16, "an address")) return false;
    const char* p = bytes_.data() + at_ - 16;
    a = ActorAddress(detail::resolve_endpoint(get_le(p, 8), get_le(p + 8, 8)));
    return true;
  }

  bool wire_name(std::string_view& name) {
    if (!take(8, "a message wire name length")) return false;
    const std::uint64_t length = get_le(bytes_.data() + at_ - 8, 8);
    if (length > bytes_.size() - at_) {
      error_ = absl::StrFormat("a message wire name of %d bytes cannot fit in the %d bytes left",
                               length, bytes_.size() - at_);
      return false;
    }
    name = std::string_view(bytes_.data() + at_, static_cast<std::size_t>(length));
    at_ += static_cast<std::size_t>(length);
    return true;
  }

  std::size_t offset() const noexcept { return at_; }
  const std::string& error() const noexcept { return error_; }

 private:
  bool take(std::size_t n, const char* what) {
    if (bytes_.size() - at_ < n) {
      error_ = absl::StrFormat("%s needs %d bytes, %d are left", what, n, bytes_.size() - at_);
      return false;
    }
    at_ += n;
    return true;
  }

  std::span<const char> bytes_;
  std::size_t at_ = 1;  // after the endianness byte
  std::string error_;
};

}  // namespace

std::string_view to_string(frame_error error) noexcept {
  switch (error) {
    case frame_error::bad_magic: return "bad magic";
    case frame_error::bad_version: return "bad version";
    case frame_error::bad_kind: return "bad kind";
    case frame_error::bad_reserved: return "bad reserved field";
    case frame_error::too_large: return "frame too large";
    case frame_error::malformed_payload: return "malformed payload";
    case frame_error::unknown_message: return "unknown message";
    case frame_error::trailing_bytes: return "trailing bytes";
    case frame_error::truncated: return "truncated frame";
  }
  return "unknown error";
}

std::uint64_t decoder_counters::total_errors() const noexcept {
  std::uint64_t total = 0;
  for (std::uint64_t n : errors) total += n;
  return total;
}

decoder_counters& decoder_counters::operator+=(const decoder_counters& other) noexcept {
  frames += other.frames;
  frame_bytes += other.frame_bytes;
  bytes_fed += other.bytes_fed;
  for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += other.errors[i];
  return *this;
}

frame_decoder::frame_decoder(std::size_t max_frame_size, bool datagram)
    : max_frame_size_(max_frame_size), datagram_(datagram) {}

std::span<char> frame_decoder::prepare(std::size_t max_bytes) {
  if (error_) return {};
  // Drop what next() consumed; what moves is at most one partial frame.
  const std::size_t pending = end_ - start_;
  if (start_ > 0) {
    if (pending > 0) std::memmove(buffer_.get(), buffer_.get() + start_, pending);
    start_ = 0;
    end_ = pending;
  }
  if (pending == 0 && capacity_ > retained_capacity && max_bytes <= retained_capacity) {
    buffer_.reset();
    capacity_ = 0;
  }
  if (capacity_ - end_ < max_bytes) {
    // Grows only by what the caller is about to read: never by a length read off the wire.
    const std::size_t wanted = std::max(end_ + max_bytes, std::min(2 * capacity_, end_ + max_bytes + capacity_));
    auto bigger = std::make_unique_for_overwrite<char[]>(wanted);
    if (end_ > 0) std::memcpy(bigger.get(), buffer_.get(), end_);
    buffer_ = std::move(bigger);
    capacity_ = wanted;
  }
  return {buffer_.get() + end_, max_bytes};
}

void frame_decoder::commit(std::size_t n) {
  if (error_ || n == 0) return;
  counters_.bytes_fed += n;
  end_ += n;
}

void frame_decoder::feed(std::span<const char> bytes) {
  if (error_ || bytes.empty()) return;
  std::span<char> room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

decode_result frame_decoder::fail(frame_error kind, std::string detail) {
  error_ = decode_error{kind, std::move(detail)};
  ++counters_.errors[static_cast<std::size_t>(kind)];
  buffer_.reset();
  capacity_ = start_ = end_ = 0;
  return *error_;
}

// Checks the header fields whose bytes are present (all of them once head holds a full header).
std::optional<decode_result> frame_decoder::check_header_prefix(std::span<const char> head) {
  const std::size_t magic_seen = std::min(head.size(), frame_magic.size());
  if (!std::equal(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(magic_seen),
                  frame_magic.begin())) {
    return fail(frame_error::bad_magic,
                absl::StrFormat("frame does not start with \"THSP\" but with \"%s\"",
                                printable(head.first(magic_seen))));
  }
  if (head.size() > 4 && static_cast<std::uint8_t>(head[4]) != frame_protocol_version) {
    return fail(frame_error::bad_version,
                absl::StrFormat("frame has protocol version %d, this build speaks only %d",
                                static_cast<unsigned char>(head[4]), frame_protocol_version));
  }
  if (head.size() > 5) {
    const auto kind = static_cast<std::uint8_t>(head[5]);
    if (kind < static_cast<std::uint8_t>(frame_kind::data) ||
        kind > static_cast<std::uint8_t>(frame_kind::origin)) {
      return fail(frame_error::bad_kind, absl::StrFormat("frame has unknown kind %d", kind));
    }
  }
  if (head.size() >= 8 && get_le(head.data() + 6, 2) != 0) {
    return fail(frame_error::bad_reserved, "frame header bytes 6-7 (reserved) are not zero");
  }
  if (head.size() >= 12) {
    const std::uint64_t length = get_le(head.data() + 8, 4);
    if (max_frame_size_ < frame_header_size || length > max_frame_size_ - frame_header_size) {
      return fail(frame_error::too_large,
                  absl::StrFormat("frame announces %d payload bytes (%d with its header), "
                                  "above the maximum frame size of %d bytes",
                                  length, length + frame_header_size, max_frame_size_));
    }
  }
  if (!datagram_ && head.size() >= 16 && get_le(head.data() + 12, 4) != 0) {
    return fail(frame_error::bad_reserved,
                "frame header bytes 12-15 (the datagram window) are not zero in a stream frame");
  }
  return std::nullopt;
}

decode_result frame_decoder::next() {
  if (error_) return *error_;
  const std::span<const char> pending(buffer_.get() + start_, end_ - start_);
  if (auto failed = check_header_prefix(pending.first(std::min(pending.size(), frame_header_size)))) {
    return std::move(*failed);
  }
  if (pending.size() < frame_header_size) return decode_result::need_more{};
  const std::size_t payload_size = get_le(pending.data() + 8, 4);
  const std::size_t frame_size = frame_header_size + payload_size;
  if (pending.size() < frame_size) return decode_result::need_more{};

  frame f;
  f.kind = static_cast<frame_kind>(pending[5]);
  f.sequence = get_le(pending.data() + 16, 8);
  const std::span<const char> payload = pending.subspan(frame_header_size, payload_size);
  std::size_t unread = 0;
  try {
    if (payload.empty() || static_cast<unsigned char>(payload[0]) > 1) {
      return fail(frame_error::malformed_payload,
                  "frame payload does not start with a cereal portable binary archive");
    }
    // A source and a stream per thread, the stream attached to the source for good and the
    // source pointed at each payload (see encode_frame_into: a std::istream and a streambuf per
    // frame cost their locales). cereal reads through rdbuf() only, so the stream's state never
    // matters. A load that decodes another frame on this thread (nothing does) gets its own.
    thread_local payload_reader mine;
    std::unique_ptr<payload_reader> nested;
    payload_reader& reader = mine.taken ? *(nested = std::make_unique<payload_reader>()) : mine;
    reader.taken = true;
    struct give_back {
      payload_reader& reader;
      ~give_back() { reader.taken = false; }
    } const give_back_on_exit{reader};
    span_source& source = reader.source;
    std::istream& in = reader.in;
    source.bind(payload);
    const detail::wire_budget_scope budget(source);
    if (std::endian::native == std::endian::little && payload[0] == 1) {
      // The envelope is read here, straight from the bytes in the layout cereal gives it (see
      // envelope_reader); only the message's value goes through cereal.
      envelope_reader r(payload);
      std::string_view wire_name;
      if (!r.address(f.target) || !r.address(f.sender) || !r.wire_name(wire_name)) {
        return fail(frame_error::malformed_payload,
                    absl::StrFormat("frame payload could not be read: %s", r.error()));
      }
      if (!wire_name.empty()) {
        const detail::message_codec* codec = detail::find_codec(wire_name);
        if (!codec) {
          return fail(frame_error::unknown_message,
                      absl::StrFormat("unknown message wire name '%s'", printable(wire_name)));
        }
        if (!reader.archive.built()) source.bind(payload.first(1));  // a new archive reads it
        cereal::PortableBinaryInputArchive& ar = reader.archive.archive();
        source.bind(payload.subspan(r.offset()));
        try {
          f.message = codec->load(ar);
        } catch (...) {
          reader.archive.drop();  // whatever the failed load left in it
          throw;
        }
        reader.archive.done();
      } else {
        source.bind(payload.subspan(r.offset()));
      }
    } else {
      cereal::PortableBinaryInputArchive ar(in);
      ar(f.target, f.sender, f.message);
    }
    unread = source.remaining();
  } catch (const UnserializableMessage& e) {
    return fail(frame_error::unknown_message, e.what());
  } catch (const std::bad_alloc&) {
    return fail(frame_error::malformed_payload,
                "frame payload declares a size that cannot be allocated");
  } catch (const std::length_error&) {
    return fail(frame_error::malformed_payload,
                "frame payload declares a size that cannot be allocated");
  } catch (const std::exception& e) {
    return fail(frame_error::malformed_payload,
                absl::StrFormat("frame payload could not be read: %s", e.what()));
  } catch (...) {
    return fail(frame_error::malformed_payload, "frame payload could not be read");
  }
  if (unread != 0) {
    return fail(frame_error::trailing_bytes,
                absl::StrFormat("frame payload holds %d bytes after its message (of %d)", unread,
                                payload_size));
  }
  start_ += frame_size;
  ++counters_.frames;
  counters_.frame_bytes += frame_size;
  if (start_ == end_) {
    start_ = end_ = 0;
    if (capacity_ > retained_capacity) {
      buffer_.reset();
      capacity_ = 0;
    }
  }
  return f;
}

std::optional<decode_error> frame_decoder::finish() {
  if (error_) return error_;
  const std::size_t pending = buffered_bytes();
  if (pending == 0) return std::nullopt;
  if (auto failed = check_header_prefix(std::span<const char>(buffer_.get() + start_, pending)
                                            .first(std::min(pending, frame_header_size)))) {
    return failed->error();
  }
  std::string detail =
      pending < frame_header_size
          ? absl::StrFormat("stream ended after %d of the %d header bytes", pending,
                            frame_header_size)
          : absl::StrFormat("stream ended after %d of the %d bytes of a frame", pending,
                            frame_header_size + get_le(buffer_.get() + start_ + 8, 4));
  return fail(frame_error::truncated, std::move(detail)).error();
}

}  // namespace thespian::transport
