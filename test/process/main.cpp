// Boost.Test module TU of the process_tests executable. Its own main() does what a program of
// a multi-process base does: serve_actor_process() first (spawned copies of this binary become
// actor hosts there and never reach the tests), then the tests. The test process is also made a
// child subreaper, so that grandchildren orphaned by a test are reparented to it and can be
// checked and reaped by PID.
#define BOOST_TEST_MODULE thespian_process_tests
#define BOOST_TEST_NO_MAIN
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <sys/prctl.h>

#include <boost/test/unit_test.hpp>

#include "thespian/actor_system.hpp"

int main(int argc, char** argv) {
  thespian::serve_actor_process(argc, argv);
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return 2;
  return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
