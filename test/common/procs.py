# Process helpers shared by the Python tests that start multi-process systems
# (test/cli, test/examples): the test becomes a child subreaper, so every process its program
# leaves behind is reparented to it, where it can be seen through /proc, killed by pid and
# reaped. Never by name: other tests run on the same machine.
import ctypes
import os
import signal
import time

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    """Orphans of our descendants are reparented to us. False if the kernel refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def descendants():
    """Pids below this process (by parent links), zombies excluded."""
    parent, state = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(name)], state[int(name)] = int(fields[1]), fields[0]
    me, found = os.getpid(), set()
    for pid in parent:
        at = pid
        while at in parent and at > 1:
            if parent[at] == me:
                if state[pid] != "Z":
                    found.add(pid)
                break
            at = parent[at]
    return found


def reap_all():
    """Reaps every child that has ended, without waiting for the others."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def wait_for_no_descendants(seconds):
    """Reaps until no descendant is left or the deadline passes; returns what is left."""
    deadline = time.monotonic() + seconds
    left = descendants()
    while left and time.monotonic() < deadline:
        reap_all()
        time.sleep(0.02)
        left = descendants()
    reap_all()
    return left


def kill_all_descendants(seconds=10):
    """SIGKILL to every descendant, by pid, then reaps them; returns what is still left."""
    for pid in descendants():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return wait_for_no_descendants(seconds)
