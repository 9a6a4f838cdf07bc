#!/usr/bin/env python3
"""Checks `thespian bench` end to end on one cheap workload (ping-pong-1, one run).

Usage: check_bench_output.py THESPIAN_BINARY OUT_DIR

Runs `thespian bench --quick --filter '^ping-pong-1/' --runs 1 --out OUT_DIR`, then checks that
bench-results.json parses and holds a row per base (ours on both in-process bases, CAF when the
binary was built with it, the floors) with positive figures and ratios, that bench-results.svg is
well-formed XML with a panel for the workload, that a remote row (remote-ask-unix: actor
processes of multiprocQueueBase next to a raw socket pair) runs, and that usage errors exit 2.
Exit 0 on success.
"""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"


def fail(text):
    print("FAIL: " + text)
    sys.exit(1)


def check_remote_rows(binary, out_dir):
    """The remote rows start actor processes: one of them, next to its raw floor, must run."""
    remote_dir = os.path.join(out_dir, "remote")
    run = subprocess.run(
        [binary, "bench", "--quick", "--filter", "^remote-ask-unix/", "--runs", "1", "--out",
         remote_dir], capture_output=True, text=True, timeout=120)
    print(run.stdout)
    print(run.stderr, file=sys.stderr)
    if run.returncode != 0:
        fail("thespian bench (remote rows) exited %d" % run.returncode)
    with open(os.path.join(remote_dir, "bench-results.json")) as f:
        rows = json.load(f)["rows"]
    bases = {r["base"]: r for r in rows}
    if set(bases) != {"multiprocQueueBase", "floor:raw-unix-rt"}:
        fail("remote-ask-unix rows for %s" % sorted(bases))
    for r in rows:
        if r["error"] or not (0 < r["min"] <= r["median"] <= r["max"]) or r["stat"] != "ops":
            fail("remote row %s: %s" % (r["base"], r))
    ratios = bases["multiprocQueueBase"]["ratios"]
    if [q["baseline"] for q in ratios] != ["floor:raw-unix-rt"] or ratios[0]["value"] <= 0:
        fail("multiprocQueueBase ratios %s" % ratios)


def main():
    if len(sys.argv) != 3:
        fail("usage: check_bench_output.py THESPIAN_BINARY OUT_DIR")
    binary, out_dir = sys.argv[1], sys.argv[2]
    shutil.rmtree(out_dir, ignore_errors=True)

    run = subprocess.run(
        [binary, "bench", "--quick", "--filter", "^ping-pong-1/", "--runs", "1", "--out", out_dir],
        capture_output=True, text=True, timeout=120)
    print(run.stdout)
    print(run.stderr, file=sys.stderr)
    if run.returncode != 0:
        fail("thespian bench exited %d" % run.returncode)
    if "[1/" not in run.stderr:
        fail("no progress lines on stderr")
    if "ping-pong-1" not in run.stdout or "multithreadBase" not in run.stdout:
        fail("the table on stdout lacks the ping-pong-1 rows")

    with open(os.path.join(out_dir, "bench-results.json")) as f:
        results = json.load(f)
    rows = results["rows"]
    if not rows:
        fail("bench-results.json has no rows")
    if any(r["workload"] != "ping-pong-1" for r in rows):
        fail("--filter let through other workloads: %s" % sorted({r["workload"] for r in rows}))
    bases = {r["base"]: r for r in rows}
    expected = {"simpleSystemBase", "multithreadBase", "floor:direct-call", "floor:asio-post",
                "floor:mutex-queue"}
    if results["run"]["caf_version"]:
        expected.add("caf")
    if set(bases) != expected:
        fail("rows for %s, expected %s" % (sorted(bases), sorted(expected)))
    for r in rows:
        if r["error"]:
            fail("row %s failed: %s" % (r["base"], r["error"]))
        if not (0 < r["min"] <= r["median"] <= r["max"]):
            fail("row %s has inconsistent figures %s" % (r["base"], r))
        if r["runs"] != 1 or r["n"] <= 0:
            fail("row %s: runs %s, n %s" % (r["base"], r["runs"], r["n"]))
    for base in ("simpleSystemBase", "multithreadBase"):
        baselines = {q["baseline"] for q in bases[base]["ratios"]}
        if baselines != expected - {"simpleSystemBase", "multithreadBase"}:
            fail("%s has ratios to %s" % (base, sorted(baselines)))
        for q in bases[base]["ratios"]:
            if q["value"] <= 0:
                fail("%s: non-positive ratio %s" % (base, q))
    if results["run"]["cores"] <= 0 or not results["run"]["compiler"]:
        fail("run description incomplete: %s" % results["run"])

    try:
        root = ET.parse(os.path.join(out_dir, "bench-results.svg")).getroot()
    except ET.ParseError as e:
        fail("bench-results.svg is not well-formed XML: %s" % e)
    if root.tag != SVG_NS + "svg":
        fail("root element is %s, not svg" % root.tag)
    texts = [t.text or "" for t in root.iter(SVG_NS + "text")]
    if "ping-pong-1" not in texts or "multithreadBase" not in texts:
        fail("the SVG lacks the ping-pong-1 panel or its labels")
    if len(list(root.iter(SVG_NS + "rect"))) < len(rows):
        fail("the SVG has fewer bars than rows")

    check_remote_rows(binary, out_dir)

    for args in (["bench", "--no-such-flag"], ["bench", "--runs", "0"], ["bench", "--filter", "("],
                 ["shell"], ["start", "--admin-port", "0"], ["no-such-command"]):
        code = subprocess.run([binary] + args, capture_output=True, timeout=30).returncode
        if code != 2:
            fail("thespian %s exited %d, expected 2" % (" ".join(args), code))

    print("bench output checks passed: %d rows, JSON and SVG well-formed" % len(rows))


if __name__ == "__main__":
    main()
