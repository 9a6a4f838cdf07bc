// Boost.Test module TU of the multiproc_tests executable (the multi-process bases, end to end).
// Like test/process, its main() calls serve_actor_process() first, so spawned copies of this
// binary become actor hosts, and makes the test process a child subreaper, so that actor
// processes orphaned by a test are reparented here and a leak can be seen and reaped by PID.
#define BOOST_TEST_MODULE thespian_multiproc_tests
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
