// Registers the message types that fixture.hpp declares, and the standard containers that several
// suites send as messages, so they can cross processes on the multi-process bases (once per
// program, as THESPIAN_MESSAGE requires; the library registers strings, integers and addresses).
#include <cereal/types/map.hpp>
#include <cereal/types/vector.hpp>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "../common/loopback_port.hpp"
#include "fixture.hpp"

THESPIAN_MESSAGE(thespian_test::DeadLetter);
THESPIAN_MESSAGE(std::vector<thespian::ActorAddress>);
THESPIAN_MESSAGE(thespian::Capabilities);

namespace thespian_test {

std::int64_t free_port() { return thespian_test_common::free_loopback_port(); }

thespian::Capabilities run_caps() {
  thespian::Capabilities caps;
  const char* env = std::getenv("THESPIAN_TEST_CAPS");
  std::string_view rest = env != nullptr ? env : "";
  while (!rest.empty()) {
    const std::size_t end = std::min(rest.find(';'), rest.size());
    const std::string_view item = rest.substr(0, end);
    rest.remove_prefix(std::min(end + 1, rest.size()));
    const std::size_t eq = item.find('=');
    if (item.empty() || eq == std::string_view::npos) continue;
    const std::string name(item.substr(0, eq));
    const std::string text(item.substr(eq + 1));
    if (text == "true" || text == "false") {
      caps[name] = text == "true";
    } else if (!text.empty() && text.find_first_not_of("-0123456789") == std::string::npos) {
      caps[name] = static_cast<std::int64_t>(std::stoll(text));
    } else {
      caps[name] = text;
    }
  }
  return caps;
}

}  // namespace thespian_test
