// The `thespian` binary: one executable for the command-line tools. Today it runs the benchmark
// suite (`thespian bench`); start/stop/status/shell arrive with the multi-process bases and say
// so instead of pretending.
#include <cstdio>
#include <string_view>
#include <vector>

#include "commands.hpp"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: thespian <command> [options]\n"
               "\n"
               "commands:\n"
               "  bench     run the benchmark suite: table, bench-results.json, bench-results.svg\n"
               "            (thespian bench --help for its options)\n"
               "  start, stop, status, shell\n"
               "            not implemented yet: they arrive with the multi-process bases\n"
               "\n"
               "options:\n"
               "  -h, --help    show this help\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(stderr);
    return 2;
  }
  const std::string_view command = args.front();
  const std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
  if (command == "-h" || command == "--help" || command == "help") {
    print_usage(stdout);
    return 0;
  }
  if (command == "bench") return thespian::cli::bench_command(rest);
  if (command == "start" || command == "stop" || command == "status" || command == "shell") {
    std::fprintf(stderr,
                 "thespian %.*s: not implemented yet (it arrives with the multi-process bases "
                 "and the admin daemon)\n",
                 static_cast<int>(command.size()), command.data());
    return 2;
  }
  std::fprintf(stderr, "thespian: unknown command '%.*s'\n\n", static_cast<int>(command.size()),
               command.data());
  print_usage(stderr);
  return 2;
}
