// Table, JSON and SVG output of the suite (see report.hpp). The SVG is plain text built here:
// each workload is a panel with its own log-scale axis (units differ between workloads), bars
// show the median, a thin whisker reaches the p99 (latency rows) or the slowest run.
#include "report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <asio/version.hpp>
#include <cereal/archives/json.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <cereal/version.hpp>

#ifndef THESPIAN_VERSION
#define THESPIAN_VERSION "unknown"
#endif

namespace bench {

const char* kind_name(row_kind k) {
  switch (k) {
    case row_kind::ours: return "ours";
    case row_kind::caf: return "caf";
    case row_kind::floor: return "floor";
  }
  return "?";
}

template <class Archive>
void serialize(Archive& ar, ratio& r) {
  ar(cereal::make_nvp("baseline", r.baseline), cereal::make_nvp("value", r.value));
}

template <class Archive>
void save(Archive& ar, const row& r) {
  ar(cereal::make_nvp("workload", r.workload), cereal::make_nvp("unit", r.unit),
     cereal::make_nvp("base", r.base), cereal::make_nvp("kind", std::string(kind_name(r.kind))),
     cereal::make_nvp("n", r.n), cereal::make_nvp("runs", r.runs),
     cereal::make_nvp("stat", r.stat), cereal::make_nvp("min", r.min),
     cereal::make_nvp("median", r.median), cereal::make_nvp("p99", r.p99),
     cereal::make_nvp("max", r.max), cereal::make_nvp("ratios", r.ratios),
     cereal::make_nvp("error", r.error));
}

template <class Archive>
void serialize(Archive& ar, run_info& i) {
  ar(cereal::make_nvp("date_utc", i.date_utc), cereal::make_nvp("host_cpu", i.host_cpu),
     cereal::make_nvp("cores", i.cores), cereal::make_nvp("compiler", i.compiler),
     cereal::make_nvp("thespian_version", i.thespian_version),
     cereal::make_nvp("asio_version", i.asio_version),
     cereal::make_nvp("cereal_version", i.cereal_version),
     cereal::make_nvp("caf_version", i.caf_version), cereal::make_nvp("size", i.size),
     cereal::make_nvp("runs", i.runs), cereal::make_nvp("filter", i.filter),
     cereal::make_nvp("wall_seconds", i.wall_seconds));
}

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

// Two or three significant figures: enough to compare, few enough to read.
std::string short_number(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a >= 10) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

std::string ratio_text(const row& r) {
  std::string text;
  for (const auto& q : r.ratios) {
    if (!text.empty()) text += "  ";
    text += q.baseline + " " + short_number(q.value) + "x";
  }
  return text;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string axis_label(double v) {
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (v >= 1000 && i < 4) {
    v /= 1000;
    ++i;
  }
  std::ostringstream s;
  s << v << suffix[i];
  return s.str();
}

// Bar labels: three significant figures with a k/M/G suffix past 10000 (the table has the
// full figures).
std::string bar_label(double v) {
  if (v < 10000) return short_number(v);
  const char* suffix[] = {"k", "M", "G"};
  int i = -1;
  while (v >= 1000 && i < 2) {
    v /= 1000;
    ++i;
  }
  return short_number(v) + suffix[i];
}

const char* bar_colour(const row& r) {
  if (r.kind == row_kind::caf) return "#e8871e";
  if (r.kind == row_kind::floor) return "#a0a0a0";
  return r.base == "multithreadBase" ? "#1f5fa8" : "#6fa8dc";
}

}  // namespace

run_info describe_run(const suite_options& options) {
  run_info info;
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  info.date_utc = date;
  info.host_cpu = cpu_model();
  info.cores = std::thread::hardware_concurrency();
  info.compiler = std::string("g++ ") + __VERSION__;
  info.thespian_version = THESPIAN_VERSION;
  info.asio_version = std::to_string(ASIO_VERSION / 100000) + "." +
                      std::to_string(ASIO_VERSION / 100 % 1000) + "." +
                      std::to_string(ASIO_VERSION % 100);
  info.cereal_version = std::to_string(CEREAL_VERSION_MAJOR) + "." +
                        std::to_string(CEREAL_VERSION_MINOR) + "." +
                        std::to_string(CEREAL_VERSION_PATCH);
  info.caf_version = caf_version();
  info.size = options.size == suite_size::full ? "full" : "quick";
  info.runs = options.runs;
  info.filter = options.filter;
  return info;
}

void print_table(const std::vector<row>& rows, std::FILE* out) {
  std::size_t wl = 8, bl = 4, ul = 4;
  for (const auto& r : rows) {
    wl = std::max(wl, r.workload.size());
    bl = std::max(bl, r.base.size());
    ul = std::max(ul, r.unit.size());
  }
  const int w = static_cast<int>(wl), b = static_cast<int>(bl), u = static_cast<int>(ul);
  std::fprintf(out, "%-*s  %-*s  %9s  %-*s  %10s  %10s  %-7s  %s\n", w, "workload", b, "base", "N",
               u, "unit", "median", "p99|max", "stat", "ratio of median to (lower is better)");
  std::string last;
  for (const auto& r : rows) {
    if (!last.empty() && r.workload != last) std::fprintf(out, "\n");
    last = r.workload;
    if (!r.error.empty()) {
      std::fprintf(out, "%-*s  %-*s  %9lld  %-*s  FAILED: %s\n", w, r.workload.c_str(), b,
                   r.base.c_str(), static_cast<long long>(r.n), u, r.unit.c_str(),
                   r.error.c_str());
      continue;
    }
    const std::string stat = r.stat == "ops" ? "ops" : std::to_string(r.runs) + (r.runs == 1 ? " run" : " runs");
    std::fprintf(out, "%-*s  %-*s  %9lld  %-*s  %10s  %10s  %-7s  %s\n", w, r.workload.c_str(), b,
                 r.base.c_str(), static_cast<long long>(r.n), u, r.unit.c_str(),
                 short_number(r.median).c_str(),
                 short_number(r.stat == "ops" ? r.p99 : r.max).c_str(), stat.c_str(),
                 ratio_text(r).c_str());
  }
}

void write_json(const std::vector<row>& rows, const run_info& info,
                const std::filesystem::path& file) {
  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  {
    cereal::JSONOutputArchive archive(out);
    archive(cereal::make_nvp("run", const_cast<run_info&>(info)), cereal::make_nvp("rows", rows));
  }
  out << "\n";
  if (!out) throw std::runtime_error("error while writing " + file.string());
}

void write_svg(const std::vector<row>& rows, const run_info& info,
               const std::filesystem::path& file) {
  // Group rows by workload, keeping the suite's order.
  std::vector<std::pair<std::string, std::vector<const row*>>> panels;
  for (const auto& r : rows) {
    if (!r.error.empty() || r.median <= 0) continue;
    if (panels.empty() || panels.back().first != r.workload) panels.push_back({r.workload, {}});
    panels.back().second.push_back(&r);
  }

  constexpr double width = 980, label_w = 190, bar_x = 200, bar_w = 600, bar_h = 16,
                   row_h = 22, title_h = 26, axis_h = 18, gap = 16, top = 78;
  double height = top;
  for (const auto& p : panels) height += title_h + axis_h + row_h * p.second.size() + gap;
  height += 10;

  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\""
      << height << "\" viewBox=\"0 0 " << width << ' ' << height
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"10\" y=\"22\" font-size=\"17\" font-weight=\"bold\">thespian bench ("
      << xml_escape(info.size) << "): median per operation, log scale, lower is better</text>\n"
      << "<text x=\"10\" y=\"42\" fill=\"#444\">" << xml_escape(info.date_utc) << ", "
      << info.cores << " cores, " << xml_escape(info.host_cpu) << ", "
      << xml_escape(info.compiler) << (info.caf_version.empty() ? "" : ", CAF ")
      << xml_escape(info.caf_version)
      << ". Whisker: p99 (latency rows) or slowest run.</text>\n";
  // Legend.
  const std::pair<const char*, const char*> legend[] = {{"#6fa8dc", "simpleSystemBase"},
                                                        {"#1f5fa8", "multithreadBase"},
                                                        {"#e8871e", "CAF"},
                                                        {"#a0a0a0", "floor (no framework)"}};
  double lx = 10;
  for (const auto& [colour, name] : legend) {
    svg << "<rect x=\"" << lx << "\" y=\"52\" width=\"14\" height=\"12\" fill=\"" << colour
        << "\"/><text x=\"" << lx + 19 << "\" y=\"62\">" << name << "</text>\n";
    lx += 40 + 7.5 * std::string(name).size();
  }

  double y = top;
  for (const auto& [name, members] : panels) {
    double lo = members.front()->median, hi = lo;
    for (const row* r : members) {
      lo = std::min(lo, r->median);
      hi = std::max({hi, r->median, r->stat == "ops" ? r->p99 : r->max});
    }
    double lo_decade = std::pow(10.0, std::floor(std::log10(lo)));
    double hi_decade = std::pow(10.0, std::ceil(std::log10(hi)));
    if (hi_decade <= lo_decade) hi_decade = lo_decade * 10;
    const double span = std::log10(hi_decade) - std::log10(lo_decade);
    auto x_of = [&](double v) {
      return bar_x + bar_w * (std::log10(std::max(v, lo_decade)) - std::log10(lo_decade)) / span;
    };

    svg << "<text x=\"10\" y=\"" << y + 17 << "\" font-size=\"14\" font-weight=\"bold\">"
        << xml_escape(name) << "</text><text x=\"" << 24 + 9.5 * name.size() << "\" y=\""
        << y + 17 << "\" fill=\"#555\">(" << xml_escape(members.front()->unit) << ")</text>\n";
    y += title_h;
    const double plot_top = y, plot_bottom = y + axis_h + row_h * members.size();
    for (double d = lo_decade; d <= hi_decade * 1.0001; d *= 10) {
      const double x = x_of(d);
      svg << "<line x1=\"" << x << "\" y1=\"" << plot_top + axis_h - 4 << "\" x2=\"" << x
          << "\" y2=\"" << plot_bottom << "\" stroke=\"#ddd\"/>"
          << "<text x=\"" << x << "\" y=\"" << plot_top + 11
          << "\" text-anchor=\"middle\" fill=\"#666\" font-size=\"10\">" << axis_label(d)
          << "</text>\n";
    }
    y += axis_h;
    for (const row* r : members) {
      const double end = x_of(r->median);
      const double whisker = x_of(r->stat == "ops" ? r->p99 : r->max);
      svg << "<text x=\"" << label_w << "\" y=\"" << y + 12 << "\" text-anchor=\"end\">"
          << xml_escape(r->kind == row_kind::caf ? "CAF " + info.caf_version : r->base)
          << "</text>"
          << "<rect x=\"" << bar_x << "\" y=\"" << y << "\" width=\"" << std::max(1.0, end - bar_x)
          << "\" height=\"" << bar_h << "\" fill=\"" << bar_colour(*r) << "\"/>";
      if (whisker > end + 1) {
        svg << "<line x1=\"" << end << "\" y1=\"" << y + bar_h / 2 << "\" x2=\"" << whisker
            << "\" y2=\"" << y + bar_h / 2 << "\" stroke=\"#333\"/>";
      }
      svg << "<text x=\"" << std::max(end, whisker) + 5 << "\" y=\"" << y + 12 << "\">"
          << bar_label(r->median) << "</text>\n";
      y += row_h;
    }
    y += gap;
  }
  svg << "</svg>\n";

  std::ofstream out(file);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  out << svg.str();
  if (!out) throw std::runtime_error("error while writing " + file.string());
}

}  // namespace bench
