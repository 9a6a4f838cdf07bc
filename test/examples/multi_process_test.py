#!/usr/bin/env python3
# Test of examples/05-multi-process: runs it on the given base with this process as a child
# subreaper (so any process it leaves behind is reparented here and can be seen and reaped by
# pid), then checks its output for real behaviour: the supervisor and both workers report pids
# that differ from the example's, from this test's and from each other, the crash is reported,
# and after it exits no process of it is left.
# Usage: multi_process_test.py /path/to/05-multi-process [base]
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from procs import become_subreaper, kill_all_descendants, wait_for_no_descendants  # noqa: E402

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)


def main():
    exe = sys.argv[1]
    base = sys.argv[2] if len(sys.argv) > 2 else "multiprocQueueBase"
    if not become_subreaper():
        print("FAIL: prctl(PR_SET_CHILD_SUBREAPER)")
        return 1

    proc = subprocess.Popen([exe, base], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        check(False, "the example did not finish within 120 s")
    print(out, end="")
    check(proc.returncode == 0, f"exit code {proc.returncode}")

    reported = re.findall(r"^(main|supervisor|worker \d): pid (\d+)", out, re.M)
    pids = {role: int(pid) for role, pid in reported}
    check(set(pids) == {"main", "supervisor", "worker 1", "worker 2"}, f"pids reported: {pids}")
    check(pids.get("main") == proc.pid,
          f"main reports pid {pids.get('main')}, started as {proc.pid}")
    actor_pids = [pids[r] for r in ("supervisor", "worker 1", "worker 2") if r in pids]
    check(len(set(actor_pids)) == 3, f"actors share a process: {actor_pids}")
    check(all(p not in (proc.pid, os.getpid()) for p in actor_pids),
          f"an actor ran in the example's or the test's process: {actor_pids}")
    check(f"on {base}" in out, f"the example did not run on {base}")
    check("supervisor reports: worker 1 lost" in out, "the crash was not reported")
    check("worker 2 still answers: yes" in out, "the surviving worker stopped answering")
    check("after shutdown: actor processes all gone" in out, "the example saw actor processes left")

    # Nothing of the example may outlive it: orphans would be our descendants now.
    left = wait_for_no_descendants(10)
    check(not left, f"processes left after the example exited: {sorted(left)}")
    kill_all_descendants()  # clean up what leaked, by pid
    for p in actor_pids:
        check(not os.path.exists(f"/proc/{p}"), f"actor process {p} still exists")

    print(f"{len(failures)} checks failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
