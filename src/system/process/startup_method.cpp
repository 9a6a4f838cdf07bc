// Implements startup_method.hpp: the capability's spelling of each method.
#include "system/process/startup_method.hpp"

namespace thespian::detail::process {

std::string_view name_of(startup_method method) {
  switch (method) {
    case startup_method::spawn: return "spawn";
    case startup_method::fork: return "fork";
    case startup_method::forkserver: return "forkserver";
  }
  return "unknown";
}

std::optional<startup_method> parse_startup_method(std::string_view name) {
  for (auto m : {startup_method::spawn, startup_method::fork, startup_method::forkserver}) {
    if (name == name_of(m)) return m;
  }
  return std::nullopt;
}

}  // namespace thespian::detail::process
