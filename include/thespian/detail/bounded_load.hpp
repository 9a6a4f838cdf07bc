// Hardened cereal loads for bytes that come off the wire. cereal's own loads of std::string,
// std::vector, std::deque, std::list, std::forward_list and std::unordered_set resize the
// container to the element count read from the input before reading a single element, so a
// few hostile bytes can ask for gigabytes. The overloads below, for the portable binary archive
// that every transport uses, check a count against the bytes still unread in the frame being
// decoded (each element takes at least one byte, an arithmetic element its full size) and let
// containers grow only as elements actually arrive. A `bool` whose byte is not 0 or 1 is refused
// rather than read into a bool (undefined behaviour). The wire format is unchanged.
//
// They are found by argument-dependent lookup (namespace cereal), so every message type
// registered with THESPIAN_MESSAGE (message.hpp includes this header) uses them; being more
// specialised than cereal's templates, they win overload resolution.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <forward_list>
#include <list>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include <cereal/archives/portable_binary.hpp>

#include "thespian/export.hpp"

namespace thespian::detail {

// Bytes not yet read of the frame payload that a transport is decoding on this thread; SIZE_MAX
// when no such decode is active (then counts are checked only against what memory allows).
THESPIAN_EXPORT std::size_t wire_bytes_left() noexcept;

// Throws cereal::Exception naming `what` when `count` elements of at least `min_bytes_each`
// bytes cannot fit in wire_bytes_left().
THESPIAN_EXPORT void check_wire_count(std::uint64_t count, std::size_t min_bytes_each,
                                      const char* what);

// At most this many elements are reserved ahead of reading them.
inline constexpr std::size_t wire_reserve_limit = 4096;

template <class T>
inline constexpr bool is_wire_blob_element =
    std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

template <class Archive, class Container>
void load_elements_one_by_one(Archive& ar, Container& c, cereal::size_type count) {
  for (cereal::size_type i = 0; i < count; ++i) {
    c.emplace_back();
    ar(c.back());
  }
}

}  // namespace thespian::detail

namespace cereal {

inline void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar, bool& value) {
  std::uint8_t byte = 0;
  ar.template loadBinary<sizeof(byte)>(&byte, sizeof(byte));
  if (byte > 1) throw Exception("a bool on the wire holds " + std::to_string(byte) + ", not 0 or 1");
  value = byte == 1;
}

template <class CharT, class Traits, class Alloc>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar,
                               std::basic_string<CharT, Traits, Alloc>& str) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, sizeof(CharT), "std::string");
  str.resize(static_cast<std::size_t>(size));
  ar(binary_data(str.data(), static_cast<std::size_t>(size) * sizeof(CharT)));
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar, std::vector<T, A>& vector) {
  size_type size = 0;
  ar(make_size_tag(size));
  vector.clear();
  if constexpr (::thespian::detail::is_wire_blob_element<T>) {
    ::thespian::detail::check_wire_count(size, sizeof(T), "std::vector");
    vector.resize(static_cast<std::size_t>(size));
    ar(binary_data(vector.data(), static_cast<std::size_t>(size) * sizeof(T)));
  } else {
    ::thespian::detail::check_wire_count(size, 1, "std::vector");
    vector.reserve(static_cast<std::size_t>(
        std::min<size_type>(size, ::thespian::detail::wire_reserve_limit)));
    ::thespian::detail::load_elements_one_by_one(ar, vector, size);
  }
}

template <class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar, std::vector<bool, A>& vector) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, 1, "std::vector<bool>");
  vector.clear();
  for (size_type i = 0; i < size; ++i) {
    bool b = false;
    ar(b);
    vector.push_back(b);
  }
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar, std::deque<T, A>& deque) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, 1, "std::deque");
  deque.clear();
  ::thespian::detail::load_elements_one_by_one(ar, deque, size);
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar, std::list<T, A>& list) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, 1, "std::list");
  list.clear();
  ::thespian::detail::load_elements_one_by_one(ar, list, size);
}

template <class T, class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar,
                               std::forward_list<T, A>& forward_list) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, 1, "std::forward_list");
  forward_list.clear();
  auto last = forward_list.before_begin();
  for (size_type i = 0; i < size; ++i) {
    last = forward_list.emplace_after(last);
    ar(*last);
  }
}

template <class K, class H, class E, class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar,
                               std::unordered_set<K, H, E, A>& set) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, 1, "std::unordered_set");
  set.clear();
  for (size_type i = 0; i < size; ++i) {
    K key{};
    ar(key);
    set.emplace(std::move(key));
  }
}

template <class K, class H, class E, class A>
void CEREAL_LOAD_FUNCTION_NAME(PortableBinaryInputArchive& ar,
                               std::unordered_multiset<K, H, E, A>& set) {
  size_type size = 0;
  ar(make_size_tag(size));
  ::thespian::detail::check_wire_count(size, 1, "std::unordered_multiset");
  set.clear();
  for (size_type i = 0; i < size; ++i) {
    K key{};
    ar(key);
    set.emplace(std::move(key));
  }
}

}  // namespace cereal
