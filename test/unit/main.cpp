// Boost.Test module TU of the unit_tests executable; the test cases live in the other TUs.
#define BOOST_TEST_MODULE thespian_unit_tests
#ifndef BOOST_TEST_DYN_LINK
#define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>
