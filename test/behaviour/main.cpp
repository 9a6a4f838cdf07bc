// Boost.Test module TU of the behaviour_tests executable; the test cases live in the other TUs.
// Each meson test runs this executable with THESPIAN_TEST_BASE set to one system base. Its own
// main() calls serve_actor_process() first, as a program of the multi-process bases should: a
// copy started by the `spawn` method becomes an actor host there (spawn is the only method left
// under TSan, whose runtime thread makes every fork refused).
#define BOOST_TEST_MODULE thespian_behaviour_tests
#define BOOST_TEST_NO_MAIN
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>

#include "thespian/actor_system.hpp"

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
