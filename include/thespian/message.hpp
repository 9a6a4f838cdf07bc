// Message: the type-erased, immutable value that actors exchange, and THESPIAN_MESSAGE, which
// registers a cereal-serializable type under a stable wire name so it can cross processes.
// Inside one process any copyable type is a message; the payload is shared, never mutated.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "thespian/detail/bounded_load.hpp"
#include "thespian/detail/small_pool.hpp"

#include "thespian/errors.hpp"
#include "thespian/export.hpp"

namespace thespian {

namespace detail {

// The shared, immutable box behind a Message. `type` is stored inline so that is<T>() costs
// one comparison and no virtual call on the hot path.
// The system messages that the receive loop handles itself (StatusRequest, ActorExitRequest,
// ChildActorExited) say so here, so the loop tests one flag per message, not three type_infos.
template <class T>
struct is_control_message : std::false_type {};

class payload_base {
 public:
  payload_base(const std::type_info& type, bool control) noexcept
      : type_(&type), control_(control) {}
  virtual ~payload_base() = default;
  payload_base(const payload_base&) = delete;
  payload_base& operator=(const payload_base&) = delete;

  const std::type_info& type() const noexcept { return *type_; }
  bool is_control() const noexcept { return control_; }
  virtual const void* value() const noexcept = 0;
  // Same dynamic type is checked by the caller.
  virtual bool equals(const payload_base& other) const = 0;

 private:
  const std::type_info* type_;
  bool control_;
};

template <class T>
class payload final : public payload_base {
 public:
  explicit payload(T v) : payload_base(typeid(T), is_control_message<T>::value), value_(std::move(v)) {}
  const void* value() const noexcept override { return &value_; }
  bool equals(const payload_base& other) const override {
    if constexpr (std::equality_comparable<T>) {
      return value_ == *static_cast<const T*>(other.value());
    } else {
      return this == &other;  // only copies of one Message are equal
    }
  }
  const T& get() const noexcept { return value_; }

 private:
  T value_;
};

// What a Message stores for a T: string literals and const char* become std::string.
template <class T>
using stored_t = std::conditional_t<std::is_convertible_v<std::decay_t<T>, const char*>,
                                    std::string, std::decay_t<T>>;

template <class T>
stored_t<T> to_stored(T&& value) {
  if constexpr (std::is_convertible_v<std::decay_t<T>, const char*>) {
    const char* text = value;  // a null C string is stored as ""
    return std::string(text ? text : "");
  } else {
    return stored_t<T>(std::forward<T>(value));
  }
}

THESPIAN_EXPORT std::string demangle(const std::type_info& type);
THESPIAN_EXPORT std::string message_type_name(const std::type_info& type);
[[noreturn]] THESPIAN_EXPORT void throw_bad_message_cast(const std::type_info& want,
                                                        std::string_view have);

}  // namespace detail

class THESPIAN_EXPORT Message {
 public:
  Message() noexcept = default;

  // Implicit on purpose: every API taking a Message takes any copyable value.
  template <class T>
    requires(!std::same_as<std::remove_cvref_t<T>, Message>)
  Message(T&& value)  // NOLINT(google-explicit-constructor)
      : payload_(std::allocate_shared<const detail::payload<detail::stored_t<T>>>(
            detail::small_allocator<char>(), detail::to_stored(std::forward<T>(value)))) {}

  template <class T>
  bool is() const noexcept {
    return payload_ && payload_->type() == typeid(T);
  }
  // nullptr when the message is not a T.
  template <class T>
  const T* get() const noexcept {
    return is<T>() ? &static_cast<const detail::payload<T>&>(*payload_).get() : nullptr;
  }
  // Throws BadMessageCast naming both types when the message is not a T.
  template <class T>
  const T& as() const {
    if (const T* v = get<T>()) return *v;
    detail::throw_bad_message_cast(typeid(T), type_name());
  }

  // The wire name of a registered type, else the demangled C++ name; "" when empty.
  std::string type_name() const;
  bool empty() const noexcept { return !payload_; }
  // Internal: one of the system messages the receive loop handles itself.
  bool is_control() const noexcept { return payload_ && payload_->is_control(); }
  const std::type_info& type() const noexcept { return payload_ ? payload_->type() : typeid(void); }

  // Same type and equal values under that type's ==; a type without == equals only copies.
  friend bool operator==(const Message& a, const Message& b) {
    if (a.payload_ == b.payload_) return true;
    if (!a.payload_ || !b.payload_) return false;
    if (a.payload_->type() != b.payload_->type()) return false;
    return a.payload_->equals(*b.payload_);
  }

  // cereal: writes the wire name then the value; throws UnserializableMessage for an
  // unregistered type, and on load for an unknown wire name.
  void save(cereal::PortableBinaryOutputArchive& ar) const;
  void load(cereal::PortableBinaryInputArchive& ar);

  // Internal: the boxed value, for the wire registry.
  const detail::payload_base* payload() const noexcept { return payload_.get(); }

 private:
  std::shared_ptr<const detail::payload_base> payload_;
};

namespace detail {

// The wire registry: one entry per THESPIAN_MESSAGE type. Thread-safe; entries are added at
// static-initialisation time, or when a loaded source registers its types.
struct message_codec {
  std::string wire_name;
  const std::type_info* type;
  void (*save)(cereal::PortableBinaryOutputArchive&, const void* value);
  Message (*load)(cereal::PortableBinaryInputArchive&);
};

THESPIAN_EXPORT void register_message_codec(message_codec codec);
// nullptr when the type (or the name) is not registered.
THESPIAN_EXPORT const message_codec* find_codec(const std::type_info& type);
THESPIAN_EXPORT const message_codec* find_codec(std::string_view wire_name);

template <class T>
struct message_registrar {
  explicit message_registrar(const char* wire_name) {
    register_message_codec(message_codec{
        wire_name, &typeid(T),
        [](cereal::PortableBinaryOutputArchive& ar, const void* v) {
          ar(*static_cast<const T*>(v));
        },
        [](cereal::PortableBinaryInputArchive& ar) -> Message {
          T value{};
          ar(value);
          return Message(std::move(value));
        }});
  }
};

}  // namespace detail
}  // namespace thespian

#define THESPIAN_DETAIL_CAT2(a, b) a##b
#define THESPIAN_DETAIL_CAT(a, b) THESPIAN_DETAIL_CAT2(a, b)
#define THESPIAN_DETAIL_UNIQUE(prefix) THESPIAN_DETAIL_CAT(prefix, __COUNTER__)

// Registers a cereal-serializable message type under the wire name written here, e.g.
// THESPIAN_MESSAGE(app::Greeting); at global namespace scope, once per program.
#define THESPIAN_MESSAGE(...)                                                              \
  namespace {                                                                              \
  const ::thespian::detail::message_registrar<__VA_ARGS__> THESPIAN_DETAIL_UNIQUE(         \
      thespian_message_registrar_)(#__VA_ARGS__);                                          \
  }                                                                                        \
  static_assert(true)
