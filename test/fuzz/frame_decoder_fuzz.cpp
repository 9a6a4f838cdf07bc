// libFuzzer target for the frame decoder (src/transport/frame_decoder.hpp): arbitrary bytes, fed
// in chunks of fuzzer-chosen size, must only ever yield frames, need-more or error values; a
// frame that decodes must re-encode and decode to an equal frame. A message type holding every
// container the hardened cereal loads cover (thespian/detail/bounded_load.hpp) is registered
// here so that those loads are fuzzed too. Build and run: see README.md.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <deque>
#include <forward_list>
#include <fstream>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <cereal/types/deque.hpp>
#include <cereal/types/forward_list.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/unordered_set.hpp>


#include "transport/frame.hpp"
#include "transport/frame_decoder.hpp"

namespace fuzz {

struct Containers {
  std::string text;
  std::vector<std::int32_t> numbers;
  std::vector<std::vector<std::string>> nested;
  std::vector<bool> bits;
  std::deque<std::string> deque;
  std::list<std::int16_t> list;
  std::forward_list<std::uint8_t> forward_list;
  std::unordered_set<std::string> set;
  std::map<std::string, std::int64_t> map;
  std::optional<std::string> maybe;
  bool flag = false;

  friend bool operator==(const Containers&, const Containers&) = default;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(text, numbers, nested, bits, deque, list, forward_list, set, map, maybe, flag);
  }
};

}  // namespace fuzz

THESPIAN_MESSAGE(fuzz::Containers);

using thespian::transport::decode_result;
using thespian::transport::encode_frame;
using thespian::transport::frame_decoder;


namespace {

// Re-encoding what was decoded must work, and decoding that again must give the same frame.
void check_round_trip(const thespian::transport::frame& f) {
  std::string again = encode_frame(f, thespian::transport::default_max_stream_frame_size);
  frame_decoder decoder(again.size());
  decoder.feed(again);
  decode_result r = decoder.next();
  if (!r.has_frame() || !(r.value() == f) || !decoder.next().needs_more()) std::abort();
}

// THESPIAN_FUZZ_WRITE_SEED=<file>: write a corpus seed (control byte 0, then one data frame
// holding a filled fuzz::Containers) and exit; this is how corpus/valid-containers was made.
void write_seed_if_asked() {
  const char* path = std::getenv("THESPIAN_FUZZ_WRITE_SEED");
  if (path == nullptr) return;
  fuzz::Containers c;
  c.text = "text";
  c.numbers = {1, -2, 3};
  c.nested = {{}, {"a", "bc"}};
  c.bits = {true, false, true};
  c.deque = {"d"};
  c.list = {4, 5};
  c.forward_list = {6};
  c.set = {"s"};
  c.map = {{"k", 7}};
  c.maybe = "m";
  c.flag = true;
  thespian::transport::frame f;
  f.sequence = 1;
  f.message = thespian::Message(c);
  bool written = false;
  {
    std::ofstream out(path, std::ios::binary);
    out << '\0' << encode_frame(f, thespian::transport::default_max_stream_frame_size);
    out.close();
    written = !out.fail();
  }
  std::exit(written ? 0 : 1);  // std::exit would not flush a stream still in scope
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  write_seed_if_asked();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // First byte: the chunk size (1..128, or everything at once when 0) and the limit.
  const std::size_t chunk = data[0] & 0x7f;
  const std::size_t max = (data[0] & 0x80) ? std::size_t{1} << 10 : std::size_t{1} << 20;
  const std::span<const char> input(reinterpret_cast<const char*>(data) + 1, size - 1);

  frame_decoder decoder(max);
  std::size_t at = 0;
  do {
    const std::size_t n = chunk == 0 ? input.size() : std::min(chunk, input.size() - at);
    decoder.feed(input.subspan(at, n));
    at += n;
    for (;;) {
      decode_result r = decoder.next();
      if (r.has_frame()) {
        check_round_trip(r.value());
        continue;
      }
      if (r.is_error() && (!decoder.poisoned() || r.error().detail.empty())) std::abort();
      break;
    }
    if (decoder.buffer_capacity() > 2 * max + 4096) std::abort();  // never beyond the limit
  } while (at < input.size() && !decoder.poisoned());
  (void)decoder.finish();
  return 0;
}
