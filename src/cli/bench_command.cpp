// `thespian bench`: parses its options, runs the suite of bench/ (suite.hpp) with progress on
// stderr, prints the table on stdout and writes bench-results.json and bench-results.svg.
// Built without the suite (-Dbench=false) it says so and exits 2.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "commands.hpp"

#if THESPIAN_WITH_BENCH
#include "fresh_process.hpp"
#include "report.hpp"
#include "suite.hpp"
#endif

namespace thespian::cli {

void print_bench_usage() {
  std::fprintf(stdout,
               "usage: thespian bench [--quick | --full] [--filter REGEX] [--runs N] [--out DIR] "
               "[--list]\n"
               "\n"
               "Runs the in-process workloads on every system base next to CAF (when built with\n"
               "it) and the floors (no framework), all measured in this run.\n"
               "\n"
               "  --quick         the quick suite (default; well under 2 minutes on 2 cores)\n"
               "  --full          about 10x the operations of --quick\n"
               "  --filter REGEX  only rows whose \"workload/base\" matches (ECMAScript regex),\n"
               "                  e.g. --filter '^ping-pong-1/' or --filter 'multithread|caf'\n"
               "  --runs N        repetitions of each throughput row (default 5; latency rows\n"
               "                  run once and report median and p99 over their operations)\n"
               "  --out DIR       where to write bench-results.json and bench-results.svg "
               "(default .)\n"
               "  --list          list the workloads and rows, run nothing\n"
               "  -h, --help      show this help\n");
}

namespace {

int usage_error(const std::string& text) {
  std::fprintf(stderr, "thespian bench: %s\n(thespian bench --help lists the options)\n",
               text.c_str());
  return 2;
}

}  // namespace

int bench_command(std::span<const std::string_view> args) {
  for (const auto a : args) {
    if (a == "-h" || a == "--help") {
      print_bench_usage();
      return 0;
    }
  }
#if !THESPIAN_WITH_BENCH
  return usage_error(
      "this thespian was built without benchmarks (meson option -Dbench=false); "
      "reconfigure with -Dbench=true");
#else
  // Internal: one measurement in this fresh process (bench/fresh_process.hpp), its figure on
  // stdout. Not in --help: the suite starts these itself.
  if (!args.empty() && args[0] == "--measure-here") {
    if (args.size() != 3) return usage_error("--measure-here needs a ROW and a number");
    const std::string count(args[2]);
    char* end = nullptr;
    const long long n = std::strtoll(count.c_str(), &end, 10);
    if (count.empty() || *end != '\0' || n < 1) {
      return usage_error("--measure-here wants a positive whole number, not '" + count + "'");
    }
    try {
      std::printf("%.3f\n", bench::measure_here(std::string(args[1]), n));
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "thespian bench --measure-here %s: %s\n", std::string(args[1]).c_str(),
                   e.what());
      return 1;
    }
  }

  bench::suite_options options;
  std::filesystem::path out_dir = ".";
  bool list_only = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    std::string_view value;
    bool has_inline_value = false;
    if (const auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string_view::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_inline_value = true;
    }
    auto take_value = [&]() -> bool {
      if (has_inline_value) return true;
      if (i + 1 >= args.size()) return false;
      value = args[++i];
      return true;
    };
    if (a == "--quick" && !has_inline_value) {
      options.size = bench::suite_size::quick;
    } else if (a == "--full" && !has_inline_value) {
      options.size = bench::suite_size::full;
    } else if (a == "--list" && !has_inline_value) {
      list_only = true;
    } else if (a == "--filter") {
      if (!take_value()) return usage_error("--filter needs a REGEX");
      options.filter = std::string(value);
      if (const std::string error = bench::filter_error(options.filter); !error.empty()) {
        return usage_error("--filter '" + options.filter + "' is not a valid regex: " + error);
      }
    } else if (a == "--runs") {
      if (!take_value()) return usage_error("--runs needs a number");
      const std::string text(value);
      char* end = nullptr;
      const long runs = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || runs < 1 || runs > 1000) {
        return usage_error("--runs wants a whole number from 1 to 1000, not '" + text + "'");
      }
      options.runs = static_cast<int>(runs);
    } else if (a == "--out") {
      if (!take_value() || value.empty()) return usage_error("--out needs a directory");
      out_dir = std::filesystem::path(std::string(value));
    } else {
      return usage_error("unknown option '" + std::string(args[i]) + "'");
    }
  }

  if (list_only) {
    for (const auto& w : bench::make_workloads(options.size)) {
      std::printf("%-20s %-14s %s\n", w.name.c_str(), w.unit.c_str(), w.what.c_str());
      for (const auto& m : w.measurements) {
        std::printf("    %s/%s  N=%lld\n", w.name.c_str(), m.base.c_str(),
                    static_cast<long long>(m.n));
      }
    }
    return 0;
  }

  try {
    std::filesystem::create_directories(out_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "thespian bench: cannot create --out directory %s: %s\n",
                 out_dir.c_str(), e.what());
    return 1;
  }

  bench::run_info info = bench::describe_run(options);
  std::fprintf(stderr, "thespian bench (%s, %d runs per throughput row, CAF %s) on %u cores\n",
               info.size.c_str(), options.runs,
               bench::built_with_caf() ? info.caf_version.c_str() : "not built", info.cores);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const auto rows = bench::run_suite(options, [&](const std::string& line) {
    std::fprintf(stderr, "%7.1fs %s\n", elapsed(), line.c_str());
  });
  info.wall_seconds = elapsed();
  if (rows.empty()) {
    return usage_error("no row matches --filter '" + options.filter + "' (see --list)");
  }

  std::fprintf(stdout, "\n");
  bench::print_table(rows, stdout);
  std::fprintf(stdout, "\n%zu rows in %.1f s (%s, %s, %u cores)\n", rows.size(), info.wall_seconds,
               info.date_utc.c_str(), info.compiler.c_str(), info.cores);
  std::fflush(stdout);

  const auto json = out_dir / "bench-results.json";
  const auto svg = out_dir / "bench-results.svg";
  try {
    bench::write_json(rows, info, json);
    bench::write_svg(rows, info, svg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "thespian bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "wrote %s and %s\n", json.c_str(), svg.c_str());

  for (const auto& r : rows) {
    if (!r.error.empty()) return 1;
  }
  return 0;
#endif
}

}  // namespace thespian::cli
