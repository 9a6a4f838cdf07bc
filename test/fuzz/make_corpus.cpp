// Writes the seed corpus of frame_decoder_fuzz into the directory given as argv[1]: valid frames
// of several kinds and messages, and a few malformed ones. Each file starts with the fuzz
// target's control byte (0: feed everything at once). Run once by hand; see README.md.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "core/endpoint.hpp"
#include "thespian/system_messages.hpp"
#include "transport/frame.hpp"

namespace {

using namespace thespian;
using transport::frame;
using transport::frame_kind;

class idle_endpoint final : public detail::endpoint {
 public:
  using endpoint::endpoint;
  bool deliver(detail::envelope&&) override { return false; }
};

void write(const std::string& dir, const std::string& name, const std::string& bytes, char control = 0) {
  std::ofstream(dir + "/" + name, std::ios::binary) << control << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  auto a = thespian::detail::make_endpoint<idle_endpoint>(77, 1);
  auto b = thespian::detail::make_endpoint<idle_endpoint>(77, 2);
  const ActorAddress one(a), two(b);
  const std::size_t max = transport::default_max_stream_frame_size;
  const std::string text = transport::encode_frame(frame{frame_kind::data, 1, one, two, std::string("hello")}, max);
  write(dir, "valid-string", text);
  write(dir, "valid-string-chunked-3", text, 3);
  write(dir, "valid-ack", transport::encode_frame(frame{frame_kind::ack, 1, {}, {}, {}}, max));
  write(dir, "valid-nack", transport::encode_frame(frame{frame_kind::nack, 9, one, {}, {}}, max));
  write(dir, "valid-dead-envelope",
        transport::encode_frame(frame{frame_kind::data, 2, one, two,
                                      DeadEnvelope{one, WakeupMessage{std::chrono::milliseconds(5), std::string("w")}}}, max));
  ActorStatus status{one, "worker", two, {one, two}, 1, 2, 3, 4};
  write(dir, "valid-actor-status", transport::encode_frame(frame{frame_kind::data, 3, one, two, status}, max));
  SystemStatus sys;
  sys.capabilities = {{"Admin Port", std::int64_t{1900}}, {"x", 1.5}, {"s", std::string("v")}, {"b", true}};
  sys.global_names = {{"g", one}};
  write(dir, "valid-system-status", transport::encode_frame(frame{frame_kind::data, 4, one, two, sys}, max));
  write(dir, "valid-validated-source",
        transport::encode_frame(frame{frame_kind::data, 5, one, two, ValidatedSource{"h", std::string("d"), "i"}}, max));
  write(dir, "valid-poison",
        transport::encode_frame(frame{frame_kind::data, 6, one, two, PoisonMessage{std::vector<std::string>{"a"}, "e"}}, max));
  write(dir, "valid-two-frames", text + transport::encode_frame(frame{frame_kind::ack, 1, {}, {}, {}}, max), 7);

  std::string bad = text;
  bad[0] = 'X';
  write(dir, "bad-magic", bad);
  bad = text;
  bad[4] = static_cast<char>(transport::frame_protocol_version + 1);
  write(dir, "bad-version", bad);
  bad = text;
  bad[11] = '\x7f';
  write(dir, "bad-length", bad);
  write(dir, "truncated", text.substr(0, text.size() - 3));
  bad = text + "zz";
  bad[8] = static_cast<char>(bad[8] + 2);
  write(dir, "trailing-bytes", bad);
  return 0;
}
