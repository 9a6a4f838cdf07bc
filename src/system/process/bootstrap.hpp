// The bootstrap exchange on a new actor process's socket, before any transport exists: the
// parent sends one bootstrap_request naming what the process should host; the process answers
// one bootstrap_reply (ready, or why not). After that the socket belongs to whatever the entry
// runs (today: a test entry, or an idle actor host; next: the admin channel). See
// docs/design.md "Processes" for the byte layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "system/process/local_socket.hpp"

namespace thespian::detail::process {

inline constexpr std::uint32_t bootstrap_protocol_version = 1;
// Bounds on what a peer may make us allocate.
inline constexpr std::size_t bootstrap_max_frame = 64 * 1024;
inline constexpr std::size_t bootstrap_max_text = 16 * 1024;

struct bootstrap_request {
  std::string entry;     // a host entry or a THESPIAN_ACTOR type name
  std::string argument;  // opaque to the launcher; given to the entry
};

struct bootstrap_reply {
  enum class outcome : std::uint8_t { ready = 0, unknown_entry = 1, entry_failed = 2, bad_request = 3 };
  outcome result = outcome::ready;
  std::string detail;  // a sentence for the parent's exception; empty when ready
};

// Each writes one frame; throws std::system_error when the socket fails or the deadline passes.
void write_bootstrap(int fd, const bootstrap_request& request, deadline_clock::time_point deadline);
void write_bootstrap(int fd, const bootstrap_reply& reply, deadline_clock::time_point deadline);

// Reading one frame: the value, or why there is none.
enum class bootstrap_read_error { closed, timed_out, malformed };
template <class T>
struct bootstrap_read {
  std::optional<T> value;
  bootstrap_read_error error = bootstrap_read_error::closed;  // meaningful when !value
  std::string why;                                            // for `malformed`
};
// Never trusts the peer: a wrong magic, a length above bootstrap_max_frame, a text above
// bootstrap_max_text or a truncated payload is `malformed`, never a large allocation.
bootstrap_read<bootstrap_request> read_bootstrap_request(int fd, deadline_clock::time_point deadline);
bootstrap_read<bootstrap_reply> read_bootstrap_reply(int fd, deadline_clock::time_point deadline);

}  // namespace thespian::detail::process
