// The message types shared by the Message unit tests (message_test.cpp: typed access,
// equality, registry; message_wire_test.cpp: the cereal form). Registered once, in
// message_test.cpp: THESPIAN_MESSAGE registers at static initialisation, program-wide.
#pragma once

#include <cstdint>
#include <string>

namespace message_test {

struct Greeting {
  std::string text;
  std::int64_t count = 0;
  bool operator==(const Greeting&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(text, count);
  }
};

// A registered template type: its wire name keeps the macro's spelling, comma included.
template <class T, int N>
struct Tagged {
  T value{};
  bool operator==(const Tagged&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(value);
  }
};

// Serializable and comparable, but never registered.
struct Unregistered {
  int value = 0;
  bool operator==(const Unregistered&) const = default;
  template <class A>
  void serialize(A& ar) {
    ar(value);
  }
};

// No operator==: messages holding one are equal only to copies of themselves.
struct NoEquality {
  int value = 0;
};

// Registered at run time by one test with a wire name that is already taken.
struct Impostor {
  template <class A>
  void serialize(A&) {}
};

}  // namespace message_test
