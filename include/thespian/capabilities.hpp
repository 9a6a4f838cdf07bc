// Capabilities of a system (name -> value) and requirements of actor types, with the truthiness
// and matching rules that decide where an actor may be placed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>

#include "thespian/export.hpp"

namespace thespian {

using CapabilityValue = std::variant<bool, std::int64_t, double, std::string>;
using Capabilities = std::map<std::string, CapabilityValue, std::less<>>;
using Requirements = Capabilities;

// true, a non-zero number, a non-empty string.
THESPIAN_EXPORT bool is_truthy(const CapabilityValue& value);
// Printable form of a value: true/false, the number, or the string.
THESPIAN_EXPORT std::string to_string(const CapabilityValue& value);

}  // namespace thespian
