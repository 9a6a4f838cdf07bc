// The benchmark suite's vocabulary: a workload is a list of measurements (one per system base,
// CAF, and the floors it is compared with); the runner repeats each one, keeps its samples and
// computes ratios inside the workload. The `thespian bench` command and `meson test --benchmark` both
// drive it; nothing here depends on how the results are shown (see report.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

// How big a run is: the quick suite keeps the whole run under two minutes on two cores.
enum class suite_size { quick, full };

// What one call of a measurement returns: per-operation costs in `unit`. A throughput run
// returns one sample (its mean); a latency run returns one sample per operation.
using samples = std::vector<double>;

// Which kind of column a measurement fills: ours (a system base), the CAF peer, or a floor.
enum class row_kind { ours, caf, floor };

struct measurement {
  std::string base;  // "simpleSystemBase", "multithreadBase", "caf", "floor:asio-post", ...
  row_kind kind = row_kind::ours;
  std::int64_t n = 0;  // operations per run (messages, hops, actors, asks, bytes)
  std::function<samples()> run;
  int runs = 0;  // 0: suite_options::runs; latency rows run once and keep one sample per op
};

struct workload {
  std::string name;   // e.g. "ping-pong-1"
  std::string unit;   // "ns/msg", "ns/hop", "B/actor", ...
  std::string what;   // one line: what it measures
  std::vector<measurement> measurements;
};

struct ratio {
  std::string baseline;  // the base of another row of the same workload
  double value = 0;      // this row's median / the baseline's median
};

struct row {
  std::string workload;
  std::string unit;
  std::string base;
  row_kind kind = row_kind::ours;
  std::int64_t n = 0;
  int runs = 0;
  std::string stat;  // "runs" (min/median/max over runs) or "ops" (median/p99 over operations)
  double min = 0, median = 0, p99 = 0, max = 0;
  std::vector<ratio> ratios;  // only on ours and caf rows: to caf and to each floor
  std::string error;          // non-empty when the measurement failed (the row has no figures)
};

struct suite_options {
  suite_size size = suite_size::quick;
  int runs = 5;                 // repetitions of each throughput measurement
  std::string filter;  // ECMAScript regex searched in "workload/base"; "" runs everything
};

// The workloads of this build: ours on every in-process base, CAF when built with it, floors.
// Remote rows (TCP/UDP/pipe) join here as the transports land; see docs/benchmarks.md.
std::vector<workload> make_workloads(suite_size size);

// Runs every selected measurement; `progress` gets one line per measurement as it starts.
std::vector<row> run_suite(const suite_options& options,
                           const std::function<void(const std::string&)>& progress);

// "" when `filter` is a valid --filter regex, else what is wrong with it (keeps <regex>, slow to
// compile, in suite.cpp alone).
std::string filter_error(const std::string& filter);

bool built_with_caf();
std::string caf_version();  // "" without CAF

// Where the stats of one row come from: per-run means (min/median/max) or per-op latencies.
row summarize(const std::string& workload, const std::string& unit, const measurement& m,
              const samples& all, int runs);

}  // namespace bench
