// How many threads this process runs now (/proc/self/task). fork() is only safe while the
// answer is 1: a child of a multithreaded parent inherits locks held by threads that do not
// exist in it (malloc, stdio, asio's reactor), so it may only call async-signal-safe functions.
#pragma once

#include <cstddef>

namespace thespian::detail::process {

// Throws std::system_error when /proc/self/task cannot be read.
std::size_t current_thread_count();

}  // namespace thespian::detail::process
