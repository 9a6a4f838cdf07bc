// Implements bootstrap.hpp: an 8-byte header (magic "THBS", payload length, both big-endian)
// followed by a cereal portable-binary payload whose strings carry checked lengths.
#include "system/process/bootstrap.hpp"

#include <array>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <cereal/archives/portable_binary.hpp>

#include "absl/strings/str_cat.h"

namespace thespian::detail::process {
namespace {

constexpr std::uint32_t frame_magic = 0x54484253;  // "THBS"
constexpr std::size_t header_size = 8;

void store_u32(std::byte* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::byte>(v >> (24 - 8 * i));
}

std::uint32_t load_u32(const std::byte* at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(at[i]);
  return v;
}

struct malformed_payload : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class Archive>
void save_text(Archive& ar, const std::string& text) {
  if (text.size() > bootstrap_max_text) {
    throw std::length_error(absl::StrCat("bootstrap text of ", text.size(), " bytes exceeds ",
                                         bootstrap_max_text));
  }
  ar(static_cast<std::uint32_t>(text.size()));
  ar(cereal::binary_data(text.data(), text.size()));
}

template <class Archive>
void load_text(Archive& ar, std::string& text) {
  std::uint32_t size = 0;
  ar(size);
  if (size > bootstrap_max_text) {
    throw malformed_payload(absl::StrCat("text length ", size, " exceeds ", bootstrap_max_text));
  }
  text.resize(size);
  ar(cereal::binary_data(text.data(), size));
}

std::string encode(const bootstrap_request& r) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(bootstrap_protocol_version);
    save_text(ar, r.entry);
    save_text(ar, r.argument);
  }
  return std::move(out).str();
}

std::string encode(const bootstrap_reply& r) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    ar(bootstrap_protocol_version);
    ar(static_cast<std::uint8_t>(r.result));
    save_text(ar, r.detail);
  }
  return std::move(out).str();
}

void check_version(std::uint32_t version) {
  if (version != bootstrap_protocol_version) {
    throw malformed_payload(absl::StrCat("bootstrap protocol version ", version, ", expected ",
                                         bootstrap_protocol_version));
  }
}

void decode(cereal::PortableBinaryInputArchive& ar, bootstrap_request& r) {
  std::uint32_t version = 0;
  ar(version);
  check_version(version);
  load_text(ar, r.entry);
  load_text(ar, r.argument);
}

void decode(cereal::PortableBinaryInputArchive& ar, bootstrap_reply& r) {
  std::uint32_t version = 0;
  ar(version);
  check_version(version);
  std::uint8_t result = 0;
  ar(result);
  if (result > static_cast<std::uint8_t>(bootstrap_reply::outcome::bad_request)) {
    throw malformed_payload(absl::StrCat("unknown bootstrap outcome ", result));
  }
  r.result = static_cast<bootstrap_reply::outcome>(result);
  load_text(ar, r.detail);
}

void write_frame(int fd, const std::string& payload, deadline_clock::time_point deadline) {
  if (payload.size() > bootstrap_max_frame) {
    throw std::length_error(absl::StrCat("bootstrap frame of ", payload.size(), " bytes exceeds ",
                                         bootstrap_max_frame));
  }
  std::vector<std::byte> frame(header_size + payload.size());
  store_u32(frame.data(), frame_magic);
  store_u32(frame.data() + 4, static_cast<std::uint32_t>(payload.size()));
  std::memcpy(frame.data() + header_size, payload.data(), payload.size());
  write_all(fd, frame, deadline);
}

template <class T>
bootstrap_read<T> read_frame(int fd, deadline_clock::time_point deadline) {
  bootstrap_read<T> out;
  auto fail = [&out](bootstrap_read_error e, std::string why = {}) {
    out.error = e;
    out.why = std::move(why);
    return out;
  };
  auto as_error = [](io_result r) {
    return r == io_result::closed ? bootstrap_read_error::closed : bootstrap_read_error::timed_out;
  };
  std::array<std::byte, header_size> header;
  if (auto r = read_exact(fd, header, deadline); r != io_result::done) return fail(as_error(r));
  if (load_u32(header.data()) != frame_magic) {
    return fail(bootstrap_read_error::malformed, "bad frame magic");
  }
  const std::uint32_t size = load_u32(header.data() + 4);
  if (size > bootstrap_max_frame) {
    return fail(bootstrap_read_error::malformed,
                absl::StrCat("frame length ", size, " exceeds ", bootstrap_max_frame));
  }
  std::string payload(size, '\0');
  if (auto r = read_exact(fd, std::as_writable_bytes(std::span(payload)), deadline);
      r != io_result::done) {
    return fail(r == io_result::closed ? bootstrap_read_error::malformed : as_error(r),
                "truncated frame");
  }
  try {
    std::istringstream in(std::move(payload));
    cereal::PortableBinaryInputArchive ar(in);
    T value;
    decode(ar, value);
    out.value = std::move(value);
  } catch (const std::exception& e) {
    return fail(bootstrap_read_error::malformed, e.what());
  }
  return out;
}

}  // namespace

void write_bootstrap(int fd, const bootstrap_request& request, deadline_clock::time_point deadline) {
  write_frame(fd, encode(request), deadline);
}

void write_bootstrap(int fd, const bootstrap_reply& reply, deadline_clock::time_point deadline) {
  write_frame(fd, encode(reply), deadline);
}

bootstrap_read<bootstrap_request> read_bootstrap_request(int fd,
                                                         deadline_clock::time_point deadline) {
  return read_frame<bootstrap_request>(fd, deadline);
}

bootstrap_read<bootstrap_reply> read_bootstrap_reply(int fd, deadline_clock::time_point deadline) {
  return read_frame<bootstrap_reply>(fd, deadline);
}

}  // namespace thespian::detail::process
