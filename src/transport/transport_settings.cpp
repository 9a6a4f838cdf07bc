// Reads the THESPIAN_* overrides of transport_settings (see transport_settings.hpp).
#include "transport/transport_settings.hpp"

#include <cstdlib>
#include <iostream>
#include <string>

#include <absl/strings/numbers.h>
#include <absl/strings/str_format.h>

#include "thespian/errors.hpp"

namespace thespian::transport {
namespace {

template <class T>
void override_from(const char* name, T& value) {
  const char* text = std::getenv(name);
  if (text == nullptr) return;
  std::uint64_t parsed = 0;
  if (!absl::SimpleAtoi(absl::string_view(text), &parsed) || parsed == 0) {
    throw ActorSystemException(
        absl::StrFormat("environment variable %s=\"%s\" is not a positive integer", name, text));
  }
  if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
    value = std::chrono::milliseconds(parsed);
  } else {
    value = static_cast<T>(parsed);
  }
}

}  // namespace

transport_settings transport_settings::from_environment(transport_settings s) {
  override_from("THESPIAN_QUEUE_HIGH_WATER", s.high_water);
  override_from("THESPIAN_QUEUE_LOW_WATER", s.low_water);
  override_from("THESPIAN_QUEUE_HARD_LIMIT", s.hard_limit);
  override_from("THESPIAN_MAX_IN_FLIGHT", s.max_in_flight);
  override_from("THESPIAN_TRANSMIT_TIMEOUT_MS", s.transmit_timeout);
  override_from("THESPIAN_RECONNECT_INITIAL_MS", s.reconnect_initial);
  override_from("THESPIAN_RECONNECT_MAX_MS", s.reconnect_max);
  override_from("THESPIAN_RETRANSMIT_INITIAL_MS", s.retransmit_initial);
  override_from("THESPIAN_READ_CHUNK_BYTES", s.read_chunk);
  override_from("THESPIAN_MAX_STREAM_FRAME_BYTES", s.max_stream_frame);
  s.validate();
  return s;
}

transport_settings transport_settings::from_environment() {
  return from_environment(transport_settings{});
}

void transport_settings::validate() const {
  if (!(low_water < high_water && high_water <= hard_limit)) {
    throw ActorSystemException(absl::StrFormat(
        "transport queue marks must satisfy low_water < high_water <= hard_limit, got %d, %d, %d "
        "(THESPIAN_QUEUE_LOW_WATER, THESPIAN_QUEUE_HIGH_WATER, THESPIAN_QUEUE_HARD_LIMIT)",
        low_water, high_water, hard_limit));
  }
  if (max_in_flight == 0) {
    throw ActorSystemException("transport max_in_flight (THESPIAN_MAX_IN_FLIGHT) must be positive");
  }
  if (read_chunk == 0 || max_stream_frame < frame_header_size) {
    throw ActorSystemException("transport read_chunk must be positive and max_stream_frame at "
                               "least one frame header");
  }
}

void transport_settings::report(std::string_view line) const {
  if (log) {
    log(line);
  } else {
    std::cerr << "thespian transport: " << line << '\n';
  }
}

}  // namespace thespian::transport
