// How suite results are shown: an aligned table (stdout), bench-results.json (cereal's JSON
// archive) and bench-results.svg (a log-scale bar chart written directly as SVG: one panel per
// workload, ours next to CAF and the floors). Independent of how the rows were measured.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "suite.hpp"

namespace bench {

// Where and how a run happened, written next to the rows so that a result file stands alone.
struct run_info {
  std::string date_utc;     // ISO 8601
  std::string host_cpu;     // /proc/cpuinfo "model name"
  unsigned cores = 0;       // std::thread::hardware_concurrency()
  std::string compiler;     // __VERSION__ of the compiler that built the suite
  std::string thespian_version, asio_version, cereal_version, caf_version;
  std::string size;         // "quick" or "full"
  int runs = 0;
  std::string filter;
  double wall_seconds = 0;
};

run_info describe_run(const suite_options& options);

void print_table(const std::vector<row>& rows, std::FILE* out);
void write_json(const std::vector<row>& rows, const run_info& info,
                const std::filesystem::path& file);
void write_svg(const std::vector<row>& rows, const run_info& info,
               const std::filesystem::path& file);

}  // namespace bench
