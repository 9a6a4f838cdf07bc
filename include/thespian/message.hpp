// Message: the type-erased, immutable value that actors exchange, and THESPIAN_MESSAGE, which
// registers a cereal-serializable type under a stable wire name so it can cross processes.
// Inside one process any copyable type is a message; the payload is shared, never mutated
// (small plain values with == are copied instead: see stored_locally).
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstring>
#include <cstdint>
#include <memory>
#include <new>
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

// The immutable box behind a Message. `type` is stored inline so that is<T>() costs one
// comparison and no virtual call on the hot path.
// The system messages that the receive loop handles itself (StatusRequest, ActorExitRequest,
// ChildActorExited) say so here, so the loop tests one flag per message, not three type_infos.
template <class T>
struct is_control_message : std::false_type {};

// A box is either a payload<T> on the heap, shared by the copies of one Message through an
// intrusive count, or the immortal local_payload<T> of a type whose value each Message holds
// itself (see stored_locally): that one is never counted.
class payload_base {
 public:
  constexpr payload_base(const std::type_info& type, bool control, bool local) noexcept
      : type_(&type), control_(control), local_(local) {}
  payload_base(const payload_base&) = delete;
  payload_base& operator=(const payload_base&) = delete;

  const std::type_info& type() const noexcept { return *type_; }
  bool is_control() const noexcept { return control_; }
  bool is_local() const noexcept { return local_; }
  // A heap payload's value; nullptr for a local one (the value is in the Message).
  virtual const void* value() const noexcept = 0;
  // `a` and `b` point at values of this box's type.
  virtual bool equals(const void* a, const void* b) const = 0;

  // Heap payloads only.
  void retain() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() const noexcept {
    // A sole owner (the usual case: a message handled once) skips the atomic write; no other
    // thread can take a reference it does not hold.
    if (refs_.load(std::memory_order_acquire) == 1 ||
        refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      destroy();
    }
  }

 protected:
  ~payload_base() = default;
  virtual void destroy() const noexcept = 0;

 private:
  const std::type_info* type_;
  mutable std::atomic<std::uint32_t> refs_{1};
  bool control_;
  bool local_;
};

template <class T>
class payload final : public payload_base {
 public:
  explicit payload(T v)
      : payload_base(typeid(T), is_control_message<T>::value, false), value_(std::move(v)) {}
  const void* value() const noexcept override { return &value_; }
  bool equals(const void* a, const void* b) const override {
    if constexpr (std::equality_comparable<T>) {
      return *static_cast<const T*>(a) == *static_cast<const T*>(b);
    } else {
      return a == b;  // only copies of one Message are equal
    }
  }
  const T& get() const noexcept { return value_; }

  // The box for `v`, with a count of one, from the small pool.
  static const payload* make(T&& v) {
    void* memory = allocate();
    try {
      return new (memory) payload(std::move(v));
    } catch (...) {
      deallocate(memory);
      throw;
    }
  }

 private:
  ~payload() = default;
  void destroy() const noexcept override {
    payload* self = const_cast<payload*>(this);
    self->~payload();
    deallocate(self);
  }
  static void* allocate() {
    if constexpr (alignof(payload) > alignof(std::max_align_t)) {
      return ::operator new(sizeof(payload), std::align_val_t(alignof(payload)));
    } else {
      return small_allocate(sizeof(payload));
    }
  }
  static void deallocate(void* p) noexcept {
    if constexpr (alignof(payload) > alignof(std::max_align_t)) {
      ::operator delete(p, std::align_val_t(alignof(payload)));
    } else {
      small_deallocate(p, sizeof(payload));
    }
  }

  T value_;
};

// Small values that are plain bytes and have == live in the Message itself: no allocation,
// no count, nothing for the receiving thread to free or to miss in its cache (eight senders
// to one receiver spent most of a message there). Another type without == stays on the heap:
// its copies must be told apart from equal values (API.md). An empty type without == (a
// signal such as `struct done {};`) is held locally too, with an identity in the bytes after
// it (see identified_locally): that is what tells its copies apart. A parent that creates
// children and greets each one paid an allocation per greeting and a free per answer.
inline constexpr std::size_t kLocalMessageBytes = 8;
template <class T>
inline constexpr bool identified_locally =
    std::is_empty_v<T> && std::is_trivially_copyable_v<T> &&
    std::is_trivially_destructible_v<T> && !std::equality_comparable<T>;
template <class T>
inline constexpr bool stored_locally =
    (std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T> &&
     sizeof(T) <= kLocalMessageBytes && alignof(T) <= kLocalMessageBytes &&
     std::equality_comparable<T>) ||
    identified_locally<T>;

// An identified_locally value's identity: bytes [1, 8) of the Message (the empty value is at
// byte 0). Unique in the process: each thread takes a block of ids from one shared counter
// (identity_block), then counts on its own, so no cache line is shared per message.
inline constexpr std::size_t kIdentityOffset = 1;
inline constexpr std::size_t kIdentityBytes = kLocalMessageBytes - kIdentityOffset;
THESPIAN_EXPORT std::uint64_t identity_block() noexcept;  // the first id of a fresh block
inline constexpr std::uint64_t kIdentityBlockSize = std::uint64_t{1} << 16;
inline std::uint64_t next_identity() noexcept {
  thread_local std::uint64_t next = 0;
  if (next % kIdentityBlockSize == 0) next = identity_block();
  return next++;
}

template <class T>
class local_payload final : public payload_base {
 public:
  constexpr local_payload() noexcept : payload_base(typeid(T), is_control_message<T>::value, true) {}
  const void* value() const noexcept override { return nullptr; }
  bool equals(const void* a, const void* b) const override {
    if constexpr (identified_locally<T>) {
      return std::memcmp(static_cast<const unsigned char*>(a) + kIdentityOffset,
                         static_cast<const unsigned char*>(b) + kIdentityOffset,
                         kIdentityBytes) == 0;
    } else {
      return *static_cast<const T*>(a) == *static_cast<const T*>(b);
    }
  }
  // Constant-initialised: a Message made during static initialisation finds it ready.
  static const local_payload instance;

 private:
  void destroy() const noexcept override {}
};
template <class T>
constinit const local_payload<T> local_payload<T>::instance{};

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
  Message(T&& value) {  // NOLINT(google-explicit-constructor)
    using S = detail::stored_t<T>;
    if constexpr (detail::stored_locally<S>) {
      ::new (static_cast<void*>(local_)) S(detail::to_stored(std::forward<T>(value)));
      if constexpr (detail::identified_locally<S>) {
        const std::uint64_t id = detail::next_identity();
        for (std::size_t i = 0; i < detail::kIdentityBytes; ++i) {
          local_[detail::kIdentityOffset + i] = static_cast<unsigned char>(id >> (8 * i));
        }
      }
      box_ = &detail::local_payload<S>::instance;
    } else {
      box_ = detail::payload<S>::make(detail::to_stored(std::forward<T>(value)));
    }
  }

  Message(const Message& other) noexcept : box_(other.box_) {
    copy_local(other);
    if (box_ && !box_->is_local()) box_->retain();
  }
  // The source is left empty; a local value's bytes stay where they were, so a pointer that
  // get() gave out lives as long as the source object, as a shared payload's did.
  Message(Message&& other) noexcept : box_(std::exchange(other.box_, nullptr)) {
    copy_local(other);
  }
  Message& operator=(const Message& other) noexcept {
    if (this != &other) {
      Message copy(other);
      *this = std::move(copy);
    }
    return *this;
  }
  Message& operator=(Message&& other) noexcept {
    if (this != &other) {
      drop();
      box_ = std::exchange(other.box_, nullptr);
      copy_local(other);
    }
    return *this;
  }
  ~Message() { drop(); }

  template <class T>
  bool is() const noexcept {
    return box_ && box_->type() == typeid(T);
  }
  // nullptr when the message is not a T; good while this Message lives.
  template <class T>
  const T* get() const noexcept {
    if (!is<T>()) return nullptr;
    if constexpr (detail::stored_locally<T>) {
      return std::launder(reinterpret_cast<const T*>(local_));
    } else {
      return &static_cast<const detail::payload<T>&>(*box_).get();
    }
  }
  // Throws BadMessageCast naming both types when the message is not a T.
  template <class T>
  const T& as() const {
    if (const T* v = get<T>()) return *v;
    detail::throw_bad_message_cast(typeid(T), type_name());
  }

  // The wire name of a registered type, else the demangled C++ name; "" when empty.
  std::string type_name() const;
  bool empty() const noexcept { return !box_; }
  // Internal: one of the system messages the receive loop handles itself.
  bool is_control() const noexcept { return box_ && box_->is_control(); }
  const std::type_info& type() const noexcept { return box_ ? box_->type() : typeid(void); }

  // Same type and equal values under that type's ==; a type without == equals only copies.
  friend bool operator==(const Message& a, const Message& b) {
    if (!a.box_ || !b.box_) return a.box_ == b.box_;
    if (a.box_ == b.box_ && !a.box_->is_local()) return true;
    if (a.box_->type() != b.box_->type()) return false;
    return a.box_->equals(a.value_address(), b.value_address());
  }

  // cereal: writes the wire name then the value; throws UnserializableMessage for an
  // unregistered type, and on load for an unknown wire name.
  void save(cereal::PortableBinaryOutputArchive& ar) const;
  void load(cereal::PortableBinaryInputArchive& ar);

  // Internal: the box (a heap payload, or a local type's descriptor), e.g. to prefetch it.
  const detail::payload_base* payload() const noexcept { return box_; }
  // Internal: the value, for the wire registry; nullptr when empty.
  const void* value_address() const noexcept {
    if (!box_) return nullptr;
    return box_->is_local() ? static_cast<const void*>(local_) : box_->value();
  }

 private:
  void copy_local(const Message& other) noexcept {
    std::memcpy(local_, other.local_, sizeof local_);
  }
  void drop() noexcept {
    if (box_ && !box_->is_local()) box_->release();
    box_ = nullptr;
  }

  const detail::payload_base* box_ = nullptr;
  alignas(detail::kLocalMessageBytes) unsigned char local_[detail::kLocalMessageBytes] = {};
};
static_assert(sizeof(Message) == 16);

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
