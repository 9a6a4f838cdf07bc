// Frame encoding (see frame.hpp for the layout). The payload is written by cereal into a sink
// that stops storing at the size limit but keeps counting, so an over-limit frame is refused
// with its exact size and without holding more than the limit in memory.
#include "transport/frame.hpp"

#include <algorithm>
#include <limits>
#include <ostream>
#include <streambuf>

#include <absl/strings/str_format.h>
#include <cereal/archives/portable_binary.hpp>

namespace thespian::transport {
namespace {

// Appends to a string up to `limit` bytes, then only counts.
class bounded_sink final : public std::streambuf {
 public:
  explicit bounded_sink(std::size_t limit) : limit_(limit) { bytes_.reserve(initial_capacity); }

  std::size_t total() const noexcept { return total_; }
  std::string& bytes() noexcept { return bytes_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto count = static_cast<std::size_t>(n);
    if (total_ <= limit_ && count <= limit_ - total_) {
      bytes_.append(s, count);
    } else {
      bytes_.clear();  // over the limit: the frame is refused, keep nothing
      bytes_.shrink_to_fit();
    }
    total_ += count;
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }

 private:
  // Typical small messages fit without growing the string.
  static constexpr std::size_t initial_capacity = 256;
  std::size_t limit_;
  std::size_t total_ = 0;
  std::string bytes_;
};

void put_le(char* out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    out[i] = static_cast<char>(static_cast<unsigned char>(value >> (8 * i)));
  }
}

}  // namespace

std::string_view to_string(frame_kind kind) noexcept {
  switch (kind) {
    case frame_kind::data: return "data";
    case frame_kind::ack: return "ack";
    case frame_kind::nack: return "nack";
  }
  return "unknown";
}

frame_too_large::frame_too_large(std::size_t frame_size, std::size_t max_size)
    : ActorSystemException(absl::StrFormat(
          "frame of %d bytes exceeds the maximum frame size of %d bytes", frame_size, max_size)),
      frame_size_(frame_size),
      max_size_(max_size) {}

std::string encode_frame(const frame& f, std::size_t max_size) {
  const std::size_t limit = std::min<std::size_t>(
      max_size, frame_header_size + std::numeric_limits<std::uint32_t>::max());
  bounded_sink sink(limit);
  const std::array<char, frame_header_size> placeholder{};
  sink.sputn(placeholder.data(), placeholder.size());
  {
    // A stream per thread, pointed at this frame's sink: constructing a std::ostream (its locale)
    // per frame was about a third of the encoding cost. cereal writes through rdbuf() only.
    thread_local std::ostream os(nullptr);
    os.rdbuf(&sink);
    struct detach {
      ~detach() { os.rdbuf(nullptr); }
    } const detach_on_exit;
    cereal::PortableBinaryOutputArchive ar(os);
    ar(f.target, f.sender, f.message);
  }
  if (sink.total() > limit) throw frame_too_large(sink.total(), max_size);

  std::string& bytes = sink.bytes();
  char* h = bytes.data();
  std::copy(frame_magic.begin(), frame_magic.end(), h);
  h[4] = static_cast<char>(frame_protocol_version);
  h[5] = static_cast<char>(f.kind);
  put_le(h + 6, 0, 2);
  put_le(h + 8, bytes.size() - frame_header_size, 4);
  put_le(h + 12, 0, 4);
  put_le(h + 16, f.sequence, 8);
  return std::move(bytes);
}

}  // namespace thespian::transport
