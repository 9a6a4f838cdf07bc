#!/usr/bin/env python3
"""Sum Boost.Test test cases over the meson tests of one or more build dirs ("passes").

Usage: summarize_tests.py BUILD_DIR [BUILD_DIR ...]

For every test recorded in BUILD_DIR/meson-logs/testlog.json (written by `meson test`; with
--wrapper or --setup it is testlog-<name>.json, and the newest such file is used), the
Boost.Test XML report named by the test's `--report_sink=` argument is read (see test/meson.build).
  * passed = test_cases_passed + test_cases_passed_with_warnings
  * failed = test_cases_failed (includes aborted) + test_cases_timed_out
  * a meson test that did not succeed (crash, timeout, sanitizer exit, leak at exit...) counts as
    at least 1 failed case, whether or not it wrote a report;
  * a successful meson test without a report (not a Boost.Test program) counts as 1 passed case;
  * a build dir without a testlog (build failed, tests not run) counts as 1 failed, unless meson
    knows no test there at all (meson-info/intro-tests.json is empty): then it counts nothing.
Prints one line per test, one line per pass, and finally exactly `N passed, M failed`. Under a
test that failed it names the failed Boost.Test cases and quotes its error lines, because CI shows
only the end of the output and the failure must be readable there.
Exit status 0 only if M == 0 and N > 0.
"""

import json
import os
import re
import signal
import sys
import xml.etree.ElementTree as ET

OK_RESULTS = {"OK", "EXPECTEDFAIL"}
SKIP_RESULTS = {"SKIP"}


def report_path(command, build_dir):
    """The --report_sink argument of a recorded test command line, or None."""
    for i, arg in enumerate(command or []):
        value = None
        if arg.startswith("--report_sink="):
            value = arg.split("=", 1)[1]
        elif arg == "--report_sink" and i + 1 < len(command):
            value = command[i + 1]
        if value:
            return value if os.path.isabs(value) else os.path.join(build_dir, value)
    return None


def read_report(path, not_before):
    """(passed, failed, skipped) from a Boost.Test XML report, or None if absent/stale/bad."""
    if not path or not os.path.isfile(path):
        return None
    # A report older than the test's start is left over from an earlier run.
    if not_before is not None and os.path.getmtime(path) < not_before - 2.0:
        return None
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return None
    suite = root if root.tag == "TestSuite" else root.find("TestSuite")
    if suite is None:
        return None

    def n(attr):
        try:
            return int(suite.get(attr, "0"))
        except ValueError:
            return 0

    passed = n("test_cases_passed") + n("test_cases_passed_with_warnings")
    failed = n("test_cases_failed") + n("test_cases_timed_out")
    skipped = n("test_cases_skipped")
    return passed, failed, skipped


def find_testlog(build_dir):
    """meson-logs/testlog.json, or testlog-<wrapper|setup>.json when `meson test` ran with
    --wrapper/--setup; the most recently written one wins."""
    logs = os.path.join(build_dir, "meson-logs")
    try:
        names = [n for n in os.listdir(logs)
                 if n.startswith("testlog") and n.endswith(".json")]
    except OSError:
        return None
    paths = [os.path.join(logs, n) for n in names if os.path.isfile(os.path.join(logs, n))]
    return max(paths, key=os.path.getmtime) if paths else None


def failed_cases(path):
    """Paths ("suite/case") of the failed or aborted test cases in a detailed Boost.Test report."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, TypeError):
        return []
    found = []

    def walk(node, prefix):
        for child in node:
            if child.tag == "TestSuite":
                walk(child, prefix + [child.get("name", "?")])
            elif child.tag == "TestCase" and child.get("result") in ("failed", "aborted"):
                found.append("/".join(prefix[2:] + [child.get("name", "?")]))

    walk(root if root.tag == "TestSuite" else root, [root.get("name", "")])
    return found


ERROR_LINE = re.compile(r"(error|fatal|exception|ERROR|AddressSanitizer|ThreadSanitizer|"
                        r"runtime error|leftover|Timeout|timed out)")


def error_lines(stdout, limit=12):
    """The first lines of a test's output that look like errors."""
    lines = [ln.rstrip() for ln in (stdout or "").splitlines() if ERROR_LINE.search(ln)]
    return lines[:limit]


def load_testlog(build_dir):
    path = find_testlog(build_dir)
    if path is None:
        return None
    entries = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return entries


def defined_tests(build_dir):
    """Number of tests meson knows for a configured build dir, or None if unknown."""
    path = os.path.join(build_dir, "meson-info", "intro-tests.json")
    try:
        with open(path, encoding="utf-8") as f:
            return len(json.load(f))
    except (OSError, ValueError, TypeError):
        return None


def summarize_pass(build_dir):
    label = os.path.basename(os.path.normpath(build_dir)) or build_dir
    entries = load_testlog(build_dir)
    if entries is None and defined_tests(build_dir) == 0:
        print(f"[{label}] no tests defined in this build dir (0 test cases)")
        print(f"pass {label}: 0 passed, 0 failed, 0 skipped, 0 meson tests")
        return 0, 0
    if entries is None:
        print(f"[{label}] no meson-logs/testlog*.json: build failed or tests did not run "
              f"(counted as 1 failed)")
        print(f"pass {label}: 0 passed, 1 failed, 0 skipped, 0 meson tests")
        return 0, 1

    total_p = total_f = total_s = 0
    for e in entries:
        name = e.get("name", "?")
        result = str(e.get("result", "?")).upper()
        rc = e.get("returncode")
        report = read_report(report_path(e.get("command"), build_dir), e.get("starttime"))
        note = ""
        if result in SKIP_RESULTS:
            p, f, s = 0, 0, (report[2] if report else 0)
            note = " (skipped by meson)"
        elif report is None:
            if result in OK_RESULTS:
                p, f, s = 1, 0, 0
                note = " (no Boost.Test report; counted as 1 case)"
            else:
                p, f, s = 0, 1, 0
                note = " (no Boost.Test report: crashed or killed; counted as 1 failed)"
        else:
            p, f, s = report
            if result not in OK_RESULTS and f == 0:
                f = 1
                note = " (report clean but the process failed, e.g. sanitizer/leak at exit; +1 failed)"
        print(f"[{label}] {name}: {result} rc={rc}: {p} passed, {f} failed, {s} skipped{note}")
        if f:
            for case in failed_cases(report_path(e.get("command"), build_dir)):
                print(f"[{label}]   failed case: {case}")
            for line in error_lines(e.get("stdout")):
                print(f"[{label}]   | {line[:300]}")
        total_p += p
        total_f += f
        total_s += s

    print(f"pass {label}: {total_p} passed, {total_f} failed, {total_s} skipped, "
          f"{len(entries)} meson tests")
    return total_p, total_f


def main(argv):
    dirs = argv[1:] or ["build"]
    if any(d in ("-h", "--help") for d in dirs):
        print(__doc__)
        return 0
    passed = failed = 0
    for d in dirs:
        p, f = summarize_pass(d)
        passed += p
        failed += f
    if passed == 0 and failed == 0:
        print("no test case ran")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv))
