// libFuzzer target for the frame decoder (src/transport/frame_decoder.hpp): arbitrary bytes, fed
// in chunks of fuzzer-chosen size, must only ever yield frames, need-more or error values; a
// frame that decodes must re-encode and decode to an equal frame. Build: see README.md.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <span>
#include <string>

#include "transport/frame.hpp"
#include "transport/frame_decoder.hpp"

using thespian::transport::decode_result;
using thespian::transport::encode_frame;
using thespian::transport::frame_decoder;

#ifdef THESPIAN_FUZZ_CAP_ALLOCATIONS
// Optional: a single allocation above 256 MiB throws std::bad_alloc (as it usually does without
// sanitizers) instead of stopping the run, so the known cereal resize issue (README.md) does not
// hide other findings. Memory still comes from malloc, which ASan checks.
void* operator new(std::size_t size) {
  if (size > (std::size_t{256} << 20)) throw std::bad_alloc();
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace {

// Re-encoding what was decoded must work, and decoding that again must give the same frame.
void check_round_trip(const thespian::transport::frame& f) {
  std::string again = encode_frame(f, thespian::transport::default_max_stream_frame_size);
  frame_decoder decoder(again.size());
  decoder.feed(again);
  decode_result r = decoder.next();
  if (!r.has_frame() || !(r.value() == f) || !decoder.next().needs_more()) std::abort();
}

}  // namespace

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
