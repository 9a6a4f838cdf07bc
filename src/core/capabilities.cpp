// Truthiness and printing of capability values (API.md: true, a non-zero number, a non-empty
// string are truthy).
#include <type_traits>

#include <absl/strings/str_cat.h>

#include "thespian/capabilities.hpp"

namespace thespian {

bool is_truthy(const CapabilityValue& value) {
  return std::visit(
      [](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return !v.empty();
        } else {
          return v != T{};
        }
      },
      value);
}

std::string to_string(const CapabilityValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          return absl::StrCat(v);
        }
      },
      value);
}

}  // namespace thespian
