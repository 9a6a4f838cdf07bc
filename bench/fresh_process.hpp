// fresh_process: runs one measurement in a new copy of this program (`thespian bench
// --measure-here ROW N`) and reads back its figure. For readings that must not depend on what
// the rows before left behind: the resident size per idle actor read in a process that had
// already run other rows came out from 77 to 473 B for the same code, because memory freed by
// those rows (kept by the allocator, the small pool's depot or CAF's) was reused without
// raising the resident size again.
#pragma once

#include <cstdint>
#include <string>

#include "suite.hpp"

namespace bench {

// Starts /proc/self/exe with `bench --measure-here <row> <n>` and returns the one figure it
// prints. Throws std::runtime_error naming the row when the process cannot start, fails or
// prints no figure.
samples in_fresh_process(const std::string& row, std::int64_t n);

// The child's side: measures `row` ("workload/base") with `n` operations in this process.
// Throws std::invalid_argument for a row that is not measured this way.
double measure_here(const std::string& row, std::int64_t n);

}  // namespace bench
