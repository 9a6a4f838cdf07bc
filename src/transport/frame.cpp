// Frame encoding (see frame.hpp for the layout). The payload is written by cereal straight into
// the caller's buffer through a sink that stops storing at the size limit but keeps counting, so
// an over-limit frame is refused with its exact size and without holding more than the limit.
#include "transport/frame.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <ostream>
#include <streambuf>

#include <absl/strings/str_format.h>
#include <cereal/archives/portable_binary.hpp>

#include "transport/archive_reuse.hpp"

namespace thespian::transport {
namespace {

// Appends to a caller's buffer up to `limit` bytes of frame, then only counts. The fast path of
// every cereal write is one bounds check and one memcpy into capacity reserved ahead.
class appending_sink final : public std::streambuf {
 public:
  appending_sink() = default;
  appending_sink(std::string& out, std::size_t limit) { bind(out, limit); }

  // Points a sink at another buffer (a streambuf constructs a std::locale: reuse one per thread).
  void bind(std::string& out, std::size_t limit) {
    out_ = &out;
    base_ = out.size();
    limit_ = limit;
    total_ = 0;
  }
  std::size_t total() const noexcept { return total_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto count = static_cast<std::size_t>(n);
    if (total_ <= limit_ && count <= limit_ - total_) {
      out_->append(s, count);
    } else if (out_->size() > base_) {
      out_->resize(base_);  // over the limit: the frame is refused, keep nothing of it
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
  std::string* out_ = nullptr;
  std::size_t base_ = 0;
  std::size_t limit_ = 0;
  std::size_t total_ = 0;
};

// On a little-endian host the low `width` bytes of the value, copied: one store once inlined
// with a constant width (the compiler did not merge the byte loop's stores).
void put_le(char* out, std::uint64_t value, std::size_t width) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, &value, width);
  } else {
    for (std::size_t i = 0; i < width; ++i) {
      out[i] = static_cast<char>(static_cast<unsigned char>(value >> (8 * i)));
    }
  }
}

// The bytes ActorAddress::save writes for one endpoint, remembered per thread for the few
// endpoints a thread sent to last: a stream of messages to one target saves its address once,
// not once per message (each save takes the process-wide address table's lock). An entry holds
// a weak reference, so it matches only while that very endpoint is alive (a new endpoint at a
// reused address is never mistaken for it), and save() has already entered it in the table.
class address_bytes_cache {
 public:
  // The portable-binary bytes of `a` (without the archive's leading endianness byte).
  std::string_view bytes_of(const ActorAddress& a) {
    const auto* key = a.endpoint();
    for (auto& e : entries_) {
      if (e.key == key && key != nullptr && !e.owner.expired()) return e.bytes;
    }
    entry& e = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    e.key = nullptr;  // if save() throws, the slot stays empty
    e.bytes.clear();
    {
      appending_sink sink(e.bytes, std::numeric_limits<std::size_t>::max());
      std::ostream os(&sink);
      cereal::PortableBinaryOutputArchive ar(os);
      a.save(ar);
    }
    e.bytes.erase(0, 1);  // the endianness byte of this scratch archive
    e.key = key;
    e.owner = a.shared_endpoint();
    return e.bytes;
  }

 private:
  struct entry {
    const void* key = nullptr;
    detail::endpoint_weak<detail::endpoint> owner;
    std::string bytes;
  };
  std::array<entry, 4> entries_;
  std::size_t next_ = 0;
};

}  // namespace

std::string_view to_string(frame_kind kind) noexcept {
  switch (kind) {
    case frame_kind::data: return "data";
    case frame_kind::ack: return "ack";
    case frame_kind::nack: return "nack";
    case frame_kind::hello: return "hello";
    case frame_kind::origin: return "origin";
  }
  return "unknown";
}

frame_too_large::frame_too_large(std::size_t frame_size, std::size_t max_size)
    : ActorSystemException(absl::StrFormat(
          "frame of %d bytes exceeds the maximum frame size of %d bytes", frame_size, max_size)),
      frame_size_(frame_size),
      max_size_(max_size) {}

namespace {

// Collects small pieces on the stack and writes them to a sink in one call (each sink write is
// a virtual call and a string append); a piece that does not fit goes after what was gathered.
class gather {
 public:
  explicit gather(std::streambuf& sink) : sink_(sink) {}
  void put(std::string_view bytes) {
    if (bytes.size() > buffer_.size() - used_) {
      flush();
      if (bytes.size() > buffer_.size()) {
        sink_.sputn(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return;
      }
    }
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }
  void flush() {
    if (used_ > 0) sink_.sputn(buffer_.data(), static_cast<std::streamsize>(used_));
    used_ = 0;
  }

 private:
  std::streambuf& sink_;
  std::array<char, 128> buffer_;
  std::size_t used_ = 0;
};

// Appends the frame `f` to `out` through `sink` and `archive` (over a stream whose rdbuf is
// `sink`), then writes its header.
using reusable_output = archive_reuse::reusable<cereal::PortableBinaryOutputArchive, std::ostream>;
constexpr std::array<char, frame_header_size> zero_header{};

void encode_with(const frame& f, std::size_t max_size, std::string& out, appending_sink& sink,
                 reusable_output& archive, address_bytes_cache& addresses) {
  const std::size_t limit = std::min<std::size_t>(
      max_size, frame_header_size + std::numeric_limits<std::uint32_t>::max());
  const std::size_t at = out.size();
  sink.bind(out, limit);
  {
    try {
      // The header's room (written below once the length is known, counted against the limit)
      // and the envelope are gathered here and handed to the sink in one write, in the layout
      // cereal gives the envelope: the archive's endianness byte, the two addresses as the bytes
      // their save() wrote (see address_bytes_cache), then the message's wire name as
      // Message::save writes it (a u64 length, then the name). Only the message's value goes
      // through cereal.
      gather envelope(sink);
      envelope.put(std::string_view(zero_header.data(), zero_header.size()));
      // The thread's archive (archive_reuse.hpp): one built now writes the endianness byte
      // through the sink itself, a reused one gets it written here.
      if (!archive.built()) {
        envelope.flush();
        archive.archive();
      } else {
        envelope.put(std::string_view("\1", 1));  // little endian, as Options::Default()
      }
      cereal::PortableBinaryOutputArchive& ar = archive.archive();
      for (const ActorAddress* a : {&f.target, &f.sender}) {
        if (*a) {
          envelope.put(addresses.bytes_of(*a));
        } else {
          envelope.put(std::string_view("", 1));  // the null address: its presence byte, 0
        }
      }
      const detail::message_codec* codec =
          f.message.empty() ? nullptr : detail::find_codec(f.message.type());
      if (codec && std::endian::native == std::endian::little) {
        const std::string& name = codec->wire_name;
        char length[8];
        put_le(length, name.size(), sizeof(length));
        envelope.put(std::string_view(length, sizeof(length)));
        envelope.put(name);
        envelope.flush();
        codec->save(ar, f.message.value_address());
      } else {
        envelope.flush();
        ar(f.message);  // empty, or unregistered (it throws UnserializableMessage)
      }
      archive.done();
    } catch (...) {
      archive.drop();  // whatever the failed save left in it
      out.resize(at);
      throw;
    }
  }
  if (sink.total() > limit) {
    out.resize(at);
    throw frame_too_large(sink.total(), max_size);
  }

  char* h = out.data() + at;
  std::copy(frame_magic.begin(), frame_magic.end(), h);
  h[4] = static_cast<char>(frame_protocol_version);
  h[5] = static_cast<char>(f.kind);
  put_le(h + 6, 0, 2);
  put_le(h + 8, out.size() - at - frame_header_size, 4);
  put_le(h + 12, 0, 4);
  put_le(h + 16, f.sequence, 8);
}

// A save() that encodes another frame on this thread finds the thread's sink taken: it gets its
// own (rare, so its cost does not matter).
[[gnu::noinline]] void encode_nested(const frame& f, std::size_t max_size, std::string& out) {
  appending_sink sink;
  std::ostream os(&sink);
  reusable_output archive(os);
  address_bytes_cache addresses;
  encode_with(f, max_size, out, sink, archive, addresses);
}

}  // namespace

void encode_frame_into(const frame& f, std::size_t max_size, std::string& out) {
  // A sink and a stream per thread, pointed at this frame's buffer: constructing a std::ostream
  // and a streambuf (their locales) per frame was about a third of the encoding cost. cereal
  // writes through rdbuf() only.
  struct per_thread {
    appending_sink sink;
    std::ostream os{&sink};  // attached for good: only the sink is pointed at each frame
    reusable_output archive{os};
    address_bytes_cache addresses;
    bool taken = false;
  };
  thread_local per_thread mine;
  if (mine.taken) return encode_nested(f, max_size, out);
  mine.taken = true;
  struct give_back {
    bool& taken;
    ~give_back() { taken = false; }
  } const give_back_on_exit{mine.taken};
  encode_with(f, max_size, out, mine.sink, mine.archive, mine.addresses);
}

std::uint32_t datagram_window(std::span<const char> frame_bytes) noexcept {
  std::uint32_t window = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    window |= std::uint32_t{static_cast<unsigned char>(frame_bytes[12 + i])} << (8 * i);
  }
  return window;
}

void set_datagram_window(std::span<char> frame_bytes, std::uint32_t window) noexcept {
  put_le(frame_bytes.data() + 12, window, 4);
}

std::string encode_frame(const frame& f, std::size_t max_size) {
  std::string bytes;
  bytes.reserve(256);  // typical small messages fit without growing
  encode_frame_into(f, max_size, bytes);
  return bytes;
}

}  // namespace thespian::transport
