// Precompiled header of the test executables: the heavy headers every test TU includes.
// Force-included by meson (cpp_pch); never include it by hand.
#include <boost/test/unit_test.hpp>

#include <asio.hpp>
#include <thespian/thespian.hpp>
