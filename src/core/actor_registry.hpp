// The process-wide registry of actor types: names from THESPIAN_ACTOR, requirements from
// THESPIAN_ACTOR_REQUIRES, and the placement rule that decides whether a system qualifies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <typeinfo>

#include "thespian/actor.hpp"
#include "thespian/capabilities.hpp"

namespace thespian::detail {

// nullptr when no type is registered under that name.
const actor_type* find_actor_type(std::string_view name);
// The registered name of the type, else its demangled C++ name. The string is interned: it
// lives as long as the process, and one type always yields the same object.
const std::string& actor_type_name(const actor_type& type);

// false when the type declares no requirement and no capability check, so that every system
// can host it (unmet_requirement would say std::nullopt whatever the capabilities): creating
// it then skips the capability snapshot and the check.
bool has_placement_rule(const actor_type& type);
// std::nullopt when `caps` can host the type with these requirements; otherwise a sentence
// naming the unmet requirement.
std::optional<std::string> unmet_requirement(const actor_type& type, const Capabilities& caps,
                                             const Requirements& req);

}  // namespace thespian::detail
