// The wire registry behind THESPIAN_MESSAGE, Message's type names and its cereal form, and the
// library's own registrations (basic types and every system message).
//
// Every frame looks its message up twice (by type to encode, by wire name to decode), so each
// thread keeps a small cache of lookups that found a codec in front of the shared table. No
// invalidation is needed: a codec is never removed or changed once registered, and a type or a
// name never gets a second one (the first registration stays), so a hit stays right forever.
#include <cxxabi.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <typeindex>

#include <absl/container/flat_hash_map.h>
#include <absl/strings/string_view.h>

#include "thespian/message.hpp"
#include "thespian/system_messages.hpp"

namespace thespian::detail {
namespace {

// Written at static-initialisation time and when sources load; read on a thread's cache miss.
struct codec_table {
  std::shared_mutex mutex;
  absl::flat_hash_map<std::type_index, std::unique_ptr<message_codec>> by_type;
  absl::flat_hash_map<std::string, const message_codec*> by_name;
};

codec_table& table() {
  static codec_table t;
  return t;
}

const message_codec* find_in_table(const std::type_info& type) {
  auto& t = table();
  std::shared_lock lock(t.mutex);
  auto it = t.by_type.find(std::type_index(type));
  return it == t.by_type.end() ? nullptr : it->second.get();
}

const message_codec* find_in_table(std::string_view wire_name) {
  auto& t = table();
  std::shared_lock lock(t.mutex);
  auto it = t.by_name.find(absl::string_view(wire_name.data(), wire_name.size()));
  return it == t.by_name.end() ? nullptr : it->second;
}

// Direct-mapped, positive results only (see the top of the file). Keyed by the type_info's
// address: another type_info object of the same type (from another shared object) merely
// misses and goes to the table, which compares types properly.
struct thread_codec_cache {
  static constexpr std::size_t slots = 16;
  std::array<const std::type_info*, slots> types{};
  std::array<const message_codec*, slots> by_type{};
  std::array<const message_codec*, slots> by_name{};

  static std::size_t type_slot(const std::type_info& type) noexcept {
    return (reinterpret_cast<std::uintptr_t>(&type) >> 4) % slots;
  }
  // Wire names differ most in their last characters (namespaces come first).
  static std::size_t name_slot(std::string_view name) noexcept {
    std::uint64_t tail = 0;
    const std::size_t n = std::min<std::size_t>(name.size(), sizeof(tail));
    std::memcpy(&tail, name.data() + name.size() - n, n);
    return static_cast<std::size_t>(((tail ^ name.size()) * 0x9e3779b97f4a7c15ULL) >> 60) % slots;
  }
};

thread_codec_cache& codec_cache() {
  thread_local thread_codec_cache cache;
  return cache;
}

}  // namespace

std::uint64_t identity_block() noexcept {
  // Starts at one block: a thread's counter at 0 means "no block yet".
  static std::atomic<std::uint64_t> next_block{kIdentityBlockSize};
  return next_block.fetch_add(kIdentityBlockSize, std::memory_order_relaxed);
}

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
  auto& cache = codec_cache();
  const std::size_t slot = thread_codec_cache::type_slot(type);
  if (cache.types[slot] == &type) return cache.by_type[slot];
  const message_codec* codec = find_in_table(type);
  if (codec) {
    cache.types[slot] = &type;
    cache.by_type[slot] = codec;
  }
  return codec;
}

const message_codec* find_codec(std::string_view wire_name) {
  if (wire_name.empty()) return nullptr;
  auto& cache = codec_cache();
  const std::size_t slot = thread_codec_cache::name_slot(wire_name);
  if (const message_codec* hit = cache.by_name[slot]; hit && hit->wire_name == wire_name) return hit;
  const message_codec* codec = find_in_table(wire_name);
  if (codec) cache.by_name[slot] = codec;
  return codec;
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
  return box_ ? detail::message_type_name(box_->type()) : std::string();
}

void Message::save(cereal::PortableBinaryOutputArchive& ar) const {
  if (!box_) {
    ar(std::string());
    return;
  }
  const detail::message_codec* codec = detail::find_codec(box_->type());
  if (!codec) {
    throw UnserializableMessage("message type '" + detail::demangle(box_->type()) +
                                "' is not registered with THESPIAN_MESSAGE and cannot leave "
                                "this process");
  }
  ar(codec->wire_name);
  codec->save(ar, value_address());
}

void Message::load(cereal::PortableBinaryInputArchive& ar) {
  // The wire name is read as cereal writes a std::string (and checked as the hardened string
  // load checks one), but a usual one into the stack rather than into a string of its own.
  cereal::size_type size = 0;
  ar(cereal::make_size_tag(size));
  if (size == 0) {
    *this = Message();
    return;
  }
  detail::check_wire_count(size, 1, "message wire name");
  std::array<char, 256> small;
  std::string large;
  char* name = small.data();
  if (size > small.size()) {
    large.resize(static_cast<std::size_t>(size));
    name = large.data();
  }
  // An rvalue char*: cereal sizes the elements of binary_data by the pointee (1: no swapping).
  ar(cereal::binary_data(static_cast<char*>(name), static_cast<std::size_t>(size)));
  const std::string_view wire_name(name, static_cast<std::size_t>(size));
  const detail::message_codec* codec = detail::find_codec(wire_name);
  if (!codec) {
    throw UnserializableMessage("unknown message wire name '" + std::string(wire_name) + "'");
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
