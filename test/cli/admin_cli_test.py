#!/usr/bin/env python3
# Test of `thespian start|stop|status` (src/cli/admin_commands.cpp) on a free loopback port:
# start leaves an admin daemon running after the command exits, a second start finds it, status
# reports its capabilities (including one given to start), stop shuts it down and frees the
# port, and status then says that no admin runs. This process is a child subreaper, so the
# daemon (orphaned when `thespian start` exits) is reparented here: the test sees it, checks
# that it is gone after stop, and reaps it by pid; anything left is killed by pid. The same runs
# for multiprocTCPBase and multiprocUDPBase (--base), each on a port of its own.
# Usage: admin_cli_test.py /path/to/thespian
import os
import random
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from procs import become_subreaper, descendants, kill_all_descendants, wait_for_no_descendants  # noqa: E402

failures = []


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def free_port():
    """A free loopback port below the kernel's ephemeral range, from which actor processes of
    other tests reserve theirs (test/common/loopback_port.hpp explains why)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low, high = (int(x) for x in f.read().split())
    first, last = (10000, low - 1) if low > 11000 else (high + 1, 65535)
    for _ in range(200):
        port = random.randint(first, last)
        free = True
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                free = False
            finally:
                s.close()
        if free:
            return port
    raise RuntimeError("no free loopback port outside the ephemeral range")


def run_command(exe, *args):
    p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def scenario(exe, base):
    port = str(free_port())
    scheme = "udp" if base == "multiprocUDPBase" else "tcp"

    def run(exe, command, *args):
        return run_command(exe, command, "--base", base, *args)

    print(f"-- {base} on port {port}")
    try:
        rc, out = run(exe, "status", "--admin-port", port)
        check(rc == 1 and "no admin runs" in out, f"status before start says no admin ({rc}: {out.strip()})")

        rc, out = run(exe, "start", "--admin-port", port, "--capability", "Color=blue")
        check(rc == 0 and "running on 127.0.0.1:" + port in out, f"start ({rc}: {out.strip()})")
        daemon = descendants()
        check(len(daemon) >= 2, f"the admin (and its logger) run after start exited: {sorted(daemon)}")

        rc, out = run(exe, "start", "--admin-port", port)
        check(rc == 0 and "already runs" in out, f"a second start finds the admin ({rc}: {out.strip()})")

        rc, out = run(exe, "status", "--admin-port", port)
        check(rc == 0 and scheme + ":127.0.0.1:" + port in out and "Color: blue" in out
              and "Actors: 0" in out, f"status reports the system ({rc})")

        rc, out = run_command(exe, "start", "--base", "multiprocQueueBase", "--admin-port", port)
        check(rc == 2 and "only multiprocTCPBase" in out, f"start refuses a base without a daemon ({rc})")
        rc, out = run(exe, "stop", "--admin-port", "99999")
        check(rc == 2 and "port number" in out, f"stop refuses a bad port ({rc})")

        rc, out = run(exe, "stop", "--admin-port", port)
        check(rc == 0 and "has shut down" in out, f"stop ({rc}: {out.strip()})")
        left = wait_for_no_descendants(10)
        check(not left, f"no process left after stop: {sorted(left)}")

        rc, out = run(exe, "status", "--admin-port", port)
        check(rc == 1 and "no admin runs" in out, f"status after stop says no admin ({rc})")
    finally:
        # Only after a failure: kill what is left, and reap each one as it ends (bounded).
        kill_all_descendants()


def main():
    exe = sys.argv[1]
    if not become_subreaper():
        print("FAIL: prctl(PR_SET_CHILD_SUBREAPER)")
        return 1
    for base in ("multiprocTCPBase", "multiprocUDPBase"):
        scenario(exe, base)
    print(f"{0 if failures else 1} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
