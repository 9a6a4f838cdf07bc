// The `thespian` binary: one executable for the command-line tools (`thespian bench`, and
// `thespian start|stop|status` for the multiprocTCPBase admin daemon), and the host of the
// actor, admin and logger processes it starts (serve_actor_process, first thing in main).
// `shell` is not built yet and says so instead of pretending.
#include <cstdio>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "thespian/actor_system.hpp"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: thespian <command> [options]\n"
               "\n"
               "commands:\n"
               "  bench     run the benchmark suite: table, bench-results.json, bench-results.svg\n"
               "            (thespian bench --help for its options)\n"
               "  start     start the multiprocTCPBase admin daemon (--admin-port N, 1900;\n"
               "            --base multiprocUDPBase: 1029)\n"
               "  stop      shut down the system of that admin\n"
               "  status    print the status of that admin's system\n"
               "  shell     not implemented yet\n"
               "\n"
               "options:\n"
               "  -h, --help    show this help\n");
}

}  // namespace

int main(int argc, char** argv) {
  // A copy of this binary started to host an actor, admin or logger becomes that host here.
  thespian::serve_actor_process(argc, argv);
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
  if (command == "start" || command == "stop" || command == "status") {
    return thespian::cli::admin_command(command, rest);
  }
  if (command == "shell") {
    std::fprintf(stderr, "thespian shell: not implemented yet\n");
    return 2;
  }
  std::fprintf(stderr, "thespian: unknown command '%.*s'\n\n", static_cast<int>(command.size()),
               command.data());
  print_usage(stderr);
  return 2;
}
