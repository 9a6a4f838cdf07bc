#!/usr/bin/env python3
# Runs a test program as a child subreaper and fails it if any process it started outlives it:
# the "ps shows no leftover process after the suite", checked rather than eyeballed.
# Every orphan of the program (an admin daemon that left its session included) is reparented
# here, so after the program exits whatever is still below us is a leak: it is listed, killed
# by pid and reaped, and the run fails even if the program itself passed.
# Usage: no_leftover_processes.py PROGRAM [ARG...]   (exit status: the program's, or 1 on a leak)
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import become_subreaper, kill_all_descendants, wait_for_no_descendants  # noqa: E402

# Long enough for a daemon admin to finish an orderly shutdown begun as the program ended.
GRACE_SECONDS = 15


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def main():
    if len(sys.argv) < 2:
        print("usage: no_leftover_processes.py PROGRAM [ARG...]", file=sys.stderr)
        return 2
    if not become_subreaper():
        print("no_leftover_processes: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)
        return 1
    rc = subprocess.call(sys.argv[1:])
    if rc < 0:
        rc = 128 - rc  # killed by a signal: the shell's convention
    left = wait_for_no_descendants(GRACE_SECONDS)
    if left:
        print(f"FAIL: {len(left)} process(es) outlived the test program by {GRACE_SECONDS} s:")
        for pid in sorted(left):
            print(f"  {pid}: {command_line(pid)}")
        still = kill_all_descendants()
        if still:
            print(f"  and could not be killed: {sorted(still)}")
        return rc or 1
    print("no process outlived the test program")
    return rc


if __name__ == "__main__":
    sys.exit(main())
