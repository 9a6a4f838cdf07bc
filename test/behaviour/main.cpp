// Boost.Test module TU of the behaviour_tests executable; the test cases live in the other TUs.
// Each meson test runs this executable with THESPIAN_TEST_BASE set to one system base.
#define BOOST_TEST_MODULE thespian_behaviour_tests
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>
