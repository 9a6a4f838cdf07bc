// The same ping-pong on CAF (Debian's libcaf-dev), the actor framework we measure against.
// Built only when CAF is found (meson option `caf`, auto).
#pragma once

#include <cstdint>

namespace bench {

// ns per message for n hops between two CAF actors on `threads` scheduler threads.
double caf_pingpong_ns(std::int64_t n, int threads);

}  // namespace bench
