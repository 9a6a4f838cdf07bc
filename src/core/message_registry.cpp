// The wire registry behind THESPIAN_MESSAGE, Message's type names and its cereal form, and the
// library's own registrations (basic types and every system message).
#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <typeindex>
#include <unordered_map>

#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"

namespace thespian::detail {
namespace {

// Written at static-initialisation time and when sources load; read on every encode/decode.
struct codec_table {
  std::shared_mutex mutex;
  std::unordered_map<std::type_index, std::unique_ptr<message_codec>> by_type;
  std::map<std::string, const message_codec*, std::less<>> by_name;
};

codec_table& table() {
  static codec_table t;
  return t;
}

}  // namespace

std::string demangle(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

void register_message_codec(message_codec codec) {
  auto& t = table();
  std::unique_lock lock(t.mutex);
  // The rule is one registration per type and one type per name. A second one (a type alias
  // registered again, a name reused) would make the wire ambiguous: the first one stays.
  if (t.by_name.contains(codec.wire_name) || t.by_type.contains(std::type_index(*codec.type))) {
    return;
  }
  auto owned = std::make_unique<message_codec>(std::move(codec));
  t.by_name.emplace(owned->wire_name, owned.get());
  t.by_type.emplace(std::type_index(*owned->type), std::move(owned));
}

const message_codec* find_codec(const std::type_info& type) {
  auto& t = table();
  std::shared_lock lock(t.mutex);
  auto it = t.by_type.find(std::type_index(type));
  return it == t.by_type.end() ? nullptr : it->second.get();
}

const message_codec* find_codec(std::string_view wire_name) {
  auto& t = table();
  std::shared_lock lock(t.mutex);
  auto it = t.by_name.find(wire_name);
  return it == t.by_name.end() ? nullptr : it->second;
}

std::string message_type_name(const std::type_info& type) {
  if (const message_codec* codec = find_codec(type)) return codec->wire_name;
  return demangle(type);
}

void throw_bad_message_cast(const std::type_info& want, std::string_view have) {
  throw BadMessageCast("message of type '" + std::string(have.empty() ? "<empty>" : have) +
                       "' is not a '" + message_type_name(want) + "'");
}

}  // namespace thespian::detail

namespace thespian {

std::string Message::type_name() const {
  return payload_ ? detail::message_type_name(payload_->type()) : std::string();
}

void Message::save(cereal::PortableBinaryOutputArchive& ar) const {
  if (!payload_) {
    ar(std::string());
    return;
  }
  const detail::message_codec* codec = detail::find_codec(payload_->type());
  if (!codec) {
    throw UnserializableMessage("message type '" + detail::demangle(payload_->type()) +
                                "' is not registered with THESPIAN_MESSAGE and cannot leave "
                                "this process");
  }
  ar(codec->wire_name);
  codec->save(ar, payload_->value());
}

void Message::load(cereal::PortableBinaryInputArchive& ar) {
  std::string wire_name;
  ar(wire_name);
  if (wire_name.empty()) {
    payload_.reset();
    return;
  }
  const detail::message_codec* codec = detail::find_codec(wire_name);
  if (!codec) {
    throw UnserializableMessage("unknown message wire name '" + wire_name + "'");
  }
  *this = codec->load(ar);
}

}  // namespace thespian

// What the library registers: the basic types of API.md and every system message.
THESPIAN_MESSAGE(std::string);
THESPIAN_MESSAGE(bool);
THESPIAN_MESSAGE(std::int64_t);
THESPIAN_MESSAGE(double);
THESPIAN_MESSAGE(std::vector<std::string>);
THESPIAN_MESSAGE(thespian::ActorAddress);
THESPIAN_MESSAGE(thespian::ActorExitRequest);
THESPIAN_MESSAGE(thespian::ChildActorExited);
THESPIAN_MESSAGE(thespian::PoisonMessage);
THESPIAN_MESSAGE(thespian::DeadEnvelope);
THESPIAN_MESSAGE(thespian::WakeupMessage);
THESPIAN_MESSAGE(thespian::WatchMessage);
THESPIAN_MESSAGE(thespian::ActorSystemConventionUpdate);
THESPIAN_MESSAGE(thespian::ValidateSource);
THESPIAN_MESSAGE(thespian::ValidatedSource);
THESPIAN_MESSAGE(thespian::LoadedSource);
THESPIAN_MESSAGE(thespian::UnloadedSource);
THESPIAN_MESSAGE(thespian::StatusRequest);
THESPIAN_MESSAGE(thespian::ActorStatus);
THESPIAN_MESSAGE(thespian::SystemStatus);
