// endpoint_ref: the counted reference an ActorAddress holds, one pointer wide. Every endpoint
// (an actor's cell, an external endpoint, a reply endpoint, a stand-in for a remote one) lives
// in a block of its own that starts with two counts, right in front of the endpoint
// (src/core/endpoint.hpp makes such blocks): a strong count that keeps the endpoint alive and a
// weak one that keeps only the block. So a reference needs no control block next to the
// object and no back-pointer inside it (std::shared_ptr took 48 bytes of every idle actor for
// those). Not part of the API; the types work with `T` incomplete, which is why the endpoint
// must sit at the very start of T (make_endpoint checks it).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "thespian/export.hpp"
#include "thespian/fwd.hpp"

namespace thespian::detail {

struct ref_counts {
  std::atomic<std::uint32_t> strong{1};
  // Weak references, plus one held by all the strong ones together (until strong reaches 0).
  std::atomic<std::uint32_t> weak{1};
};
static_assert(sizeof(ref_counts) == 8);

inline ref_counts& counts_of(const void* ep) noexcept {
  return *std::launder(reinterpret_cast<ref_counts*>(
      const_cast<char*>(static_cast<const char*>(ep)) - sizeof(ref_counts)));
}

// Strong reached 0: destroys the endpoint, then drops the strong ones' weak count.
THESPIAN_EXPORT void destroy_endpoint(endpoint* ep) noexcept;
// Weak reached 0: gives the endpoint's block back.
THESPIAN_EXPORT void free_endpoint_block(endpoint* ep) noexcept;

inline void retain(const void* ep) noexcept {
  counts_of(ep).strong.fetch_add(1, std::memory_order_relaxed);
}
inline void release(endpoint* ep) noexcept {
  if (counts_of(ep).strong.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_endpoint(ep);
}
inline void retain_weak(const void* ep) noexcept {
  counts_of(ep).weak.fetch_add(1, std::memory_order_relaxed);
}
inline void release_weak(endpoint* ep) noexcept {
  if (counts_of(ep).weak.fetch_sub(1, std::memory_order_acq_rel) == 1) free_endpoint_block(ep);
}

// A strong reference, as std::shared_ptr<T> for what the library uses of it.
template <class T>
class endpoint_ref {
 public:
  endpoint_ref() noexcept = default;
  endpoint_ref(std::nullptr_t) noexcept {}  // NOLINT: as shared_ptr's
  endpoint_ref(const endpoint_ref& other) noexcept : p_(other.p_) {
    if (p_) retain(p_);
  }
  endpoint_ref(endpoint_ref&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  template <class U>
  endpoint_ref(endpoint_ref<U> other) noexcept  // NOLINT: a derived endpoint's reference
      : p_(other.release()) {}
  endpoint_ref& operator=(endpoint_ref other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~endpoint_ref() {
    if (p_) detail::release(as_endpoint(p_));
  }

  // Takes over one strong count that `p` already holds for the caller.
  static endpoint_ref adopt(T* p) noexcept {
    endpoint_ref r;
    r.p_ = p;
    return r;
  }
  // One more strong count on `p`, which the caller knows to be alive.
  static endpoint_ref share(T* p) noexcept {
    if (p) retain(p);
    return adopt(p);
  }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  void reset() noexcept { endpoint_ref().swap(*this); }
  void swap(endpoint_ref& other) noexcept { std::swap(p_, other.p_); }
  // How many strong references there are (for tests: it may change at any time).
  std::uint32_t use_count() const noexcept {
    return p_ ? counts_of(p_).strong.load(std::memory_order_relaxed) : 0;
  }
  // Gives up the reference without dropping its count: the caller now holds it.
  T* release() noexcept { return std::exchange(p_, nullptr); }

  template <class U>
  friend bool operator==(const endpoint_ref& a, const endpoint_ref<U>& b) noexcept {
    return static_cast<const void*>(a.get()) == static_cast<const void*>(b.get());
  }
  friend bool operator==(const endpoint_ref& a, std::nullptr_t) noexcept { return !a.p_; }

 private:
  // The endpoint is at the start of T (see make_endpoint), so no complete type is needed.
  static endpoint* as_endpoint(T* p) noexcept { return reinterpret_cast<endpoint*>(p); }
  T* p_ = nullptr;
};

// A weak reference: keeps the endpoint's block (and so its address) but not the endpoint;
// lock() gives a strong one while the endpoint lives.
template <class T>
class endpoint_weak {
 public:
  endpoint_weak() noexcept = default;
  endpoint_weak(const endpoint_ref<T>& strong) noexcept : p_(strong.get()) {  // NOLINT
    if (p_) retain_weak(p_);
  }
  endpoint_weak(const endpoint_weak& other) noexcept : p_(other.p_) {
    if (p_) retain_weak(p_);
  }
  endpoint_weak(endpoint_weak&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  endpoint_weak& operator=(endpoint_weak other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~endpoint_weak() {
    if (p_) release_weak(reinterpret_cast<endpoint*>(p_));
  }

  // A strong reference, or none once the endpoint is gone.
  endpoint_ref<T> lock() const noexcept {
    if (!p_) return {};
    auto& strong = counts_of(p_).strong;
    std::uint32_t n = strong.load(std::memory_order_relaxed);
    while (n != 0) {
      if (strong.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        return endpoint_ref<T>::adopt(p_);
      }
    }
    return {};
  }
  bool expired() const noexcept {
    return !p_ || counts_of(p_).strong.load(std::memory_order_acquire) == 0;
  }
  // Whom it refers to, alive or not (the block stays while this does, so the address is not
  // another endpoint's): for identity only, never to be dereferenced.
  const void* target() const noexcept { return p_; }

 private:
  T* p_ = nullptr;
};

}  // namespace thespian::detail
