// The subcommands of the `thespian` binary. main.cpp dispatches on the first argument; each
// command gets the arguments after its name and returns the process exit status
// (0 success, 1 the work failed, 2 bad usage or not available in this build).
#pragma once

#include <span>
#include <string_view>

namespace thespian::cli {

int bench_command(std::span<const std::string_view> args);
// start, stop, status: the admin daemon of multiprocTCPBase (admin_commands.cpp).
int admin_command(std::string_view command, std::span<const std::string_view> args);
void print_bench_usage();

}  // namespace thespian::cli
