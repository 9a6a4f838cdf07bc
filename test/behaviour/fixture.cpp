// Registers the message types that fixture.hpp declares, and the standard containers that several
// suites send as messages, so they can cross processes on the multi-process bases (once per
// program, as THESPIAN_MESSAGE requires; the library registers strings, integers and addresses).
#include <cereal/types/map.hpp>
#include <cereal/types/vector.hpp>

#include "../common/loopback_port.hpp"
#include "fixture.hpp"

THESPIAN_MESSAGE(thespian_test::DeadLetter);
THESPIAN_MESSAGE(std::vector<thespian::ActorAddress>);
THESPIAN_MESSAGE(thespian::Capabilities);

namespace thespian_test {

std::int64_t free_port() { return thespian_test_common::free_loopback_port(); }

}  // namespace thespian_test
