// Implements the actor type registry (see actor_registry.hpp). Entries are added at static
// initialisation (and by loaded sources), read whenever an actor is created.
#include "core/actor_registry.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "thespian/message.hpp"

namespace thespian::detail {
namespace {

struct requirement {
  std::string name;
  std::optional<CapabilityValue> value;  // nullopt: must be truthy
};

struct registry {
  std::shared_mutex mutex;
  std::map<std::string, const actor_type*, std::less<>> by_name;
  std::unordered_map<std::type_index, std::string> names;
  std::unordered_map<std::type_index, std::vector<requirement>> requirements;
};

// Bumped whenever a requirement is declared: a thread's cached "this type has none" is then
// looked up again (see has_placement_rule).
std::atomic<std::uint64_t> requirement_generation{1};

registry& reg() {
  static registry r;
  return r;
}

}  // namespace

void register_actor_type(const char* name, const actor_type& type) {
  auto& r = reg();
  std::unique_lock lock(r.mutex);
  r.by_name.emplace(name, &type);
  r.names.emplace(std::type_index(*type.type), name);
}

void register_actor_requirement(const std::type_info& type, const char* name,
                                std::optional<CapabilityValue> value) {
  auto& r = reg();
  std::unique_lock lock(r.mutex);
  r.requirements[std::type_index(type)].push_back(requirement{name, std::move(value)});
  requirement_generation.fetch_add(1, std::memory_order_release);
}

const actor_type* find_actor_type(std::string_view name) {
  auto& r = reg();
  std::shared_lock lock(r.mutex);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : it->second;
}

namespace {

// The name of `type` from the registry (under its lock), demangled and remembered when absent.
const std::string& actor_type_name_locked(const actor_type& type) {
  auto& r = reg();
  {
    std::shared_lock lock(r.mutex);
    auto it = r.names.find(std::type_index(*type.type));
    if (it != r.names.end()) return it->second;
  }
  // An unregistered type: demangled once, then remembered (demangling costs microseconds, and
  // an actor of the type may be created many times). Elements of an unordered_map keep their
  // address when it rehashes.
  std::string demangled = demangle(*type.type);
  std::unique_lock lock(r.mutex);
  return r.names.try_emplace(std::type_index(*type.type), std::move(demangled)).first->second;
}

}  // namespace

const std::string& actor_type_name(const actor_type& type) {
  // A type's name never changes once known (registration and the demangled fallback both
  // insert only; nothing erases), so each thread remembers the last one it looked up: an
  // actor creating many children of one type takes no lock and hashes no type name.
  thread_local const actor_type* last_type = nullptr;
  thread_local const std::string* last_name = nullptr;
  if (last_type == &type) return *last_name;
  const std::string& name = actor_type_name_locked(type);
  last_type = &type;
  last_name = &name;
  return name;
}

bool has_placement_rule(const actor_type& type) {
  if (type.check) return true;
  // Like actor_type_name: an actor creating many children of one type looks it up once.
  thread_local const actor_type* last_type = nullptr;
  thread_local std::uint64_t last_generation = 0;
  thread_local bool last_declared = false;
  const std::uint64_t generation = requirement_generation.load(std::memory_order_acquire);
  if (last_type == &type && last_generation == generation) return last_declared;
  bool declared;
  {
    auto& r = reg();
    std::shared_lock lock(r.mutex);
    auto it = r.requirements.find(std::type_index(*type.type));
    declared = it != r.requirements.end() && !it->second.empty();
  }
  last_type = &type;
  last_generation = generation;
  last_declared = declared;
  return declared;
}

std::optional<std::string> unmet_requirement(const actor_type& type, const Capabilities& caps,
                                             const Requirements& req) {
  std::vector<requirement> declared;
  {
    auto& r = reg();
    std::shared_lock lock(r.mutex);
    auto it = r.requirements.find(std::type_index(*type.type));
    if (it != r.requirements.end()) declared = it->second;
  }
  for (const requirement& need : declared) {
    auto have = caps.find(need.name);
    if (!need.value) {
      if (have == caps.end() || !is_truthy(have->second)) {
        return "requires capability '" + need.name + "' to be true";
      }
    } else if (have == caps.end() || have->second != *need.value) {
      return "requires capability '" + need.name + "' = '" + to_string(*need.value) + "'";
    }
  }
  if (type.check && !type.check(caps, req)) {
    std::string text = "its actor_system_capability_check rejected this system";
    if (!req.empty()) {
      text += " for requirements {";
      bool first = true;
      for (const auto& [name, value] : req) {
        text += (first ? "" : ", ") + name + "=" + to_string(value);
        first = false;
      }
      text += "}";
    }
    return text;
  }
  return std::nullopt;
}

}  // namespace thespian::detail
