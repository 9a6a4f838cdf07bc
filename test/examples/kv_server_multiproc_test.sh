#!/usr/bin/env bash
# End-to-end test of thespian-kv on a multi-process base (its shards in processes of their own):
# starts it in a session of its own on a free loopback port, checks that the shards run outside
# the server's process, checks exact replies of SET/GET/INCR/DEL/MGET/EXISTS and of malformed
# input through redis-cli and a raw socket, and values near the transport's frame limit, stops
# it with SIGTERM and checks that no process of its session is left.
# Needs redis-cli (Debian package redis-tools) and python3.
# Usage: kv_server_multiproc_test.sh /path/to/thespian-kv [base]
set -uo pipefail

KV=${1:?usage: kv_server_multiproc_test.sh /path/to/thespian-kv [base]}
BASE=${2:-multiprocQueueBase}
SHARDS=3
for tool in redis-cli python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool not found (apt-get install -y --no-install-recommends redis-tools python3)"
    exit 1
  fi
done

WORK=$(mktemp -d)
PID=""  # the server while it runs
SID=""  # its session, until every process of it has ended
# The pids of every process in the server's session (the server is the session leader, so its
# pid is the session id; actor, admin and logger processes stay in it).
session_pids() {
  local sid=$1 stat f fields
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    # Fields after "(comm) ": state ppid pgrp session ...
    read -r -a fields <<<"${stat##*) }"
    [[ ${fields[3]:-} == "$sid" ]] && echo "${f//[^0-9]/}"
  done
}
# The pids of every process below `root` (by parent links): on multiprocTCPBase the admin
# leaves the session (it is a daemon), but it is still the server's descendant.
descendant_pids() {
  local root=$1 f stat fields pid
  declare -A parent=()
  for f in /proc/[0-9]*/stat; do
    stat=$(cat "$f" 2>/dev/null) || continue
    read -r -a fields <<<"${stat##*) }"
    parent[${f//[^0-9]/}]=${fields[1]}
  done
  for pid in "${!parent[@]}"; do
    local at=$pid
    while [[ -n "${parent[$at]:-}" && $at -gt 1 ]]; do
      if [[ ${parent[$at]} == "$root" ]]; then echo "$pid"; break; fi
      at=${parent[$at]}
    done
  done
}
TRACKED=""  # every process of the server seen while it ran (killed by pid at cleanup)
# Those of TRACKED that still run (zombies count as ended).
tracked_left() {
  local p state
  for p in $TRACKED; do
    state=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null | awk '{print $1}') || continue
    [[ -n "$state" && "$state" != Z ]] && echo "$p"
  done
}
cleanup() {
  if [[ -n "$PID" ]]; then
    kill "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  if [[ -n "$SID" ]]; then
    for p in $(session_pids "$SID"); do kill -KILL "$p" 2>/dev/null; done  # by pid
  fi
  for p in $(tracked_left); do kill -KILL "$p" 2>/dev/null; done  # by pid
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Start the server (session leader: python's setsid, then exec); retry with another port if the
# chosen one was taken in between.
PORT=""
for _ in 1 2 3; do
  PORT=$(free_port)
  python3 -c 'import os, sys; os.setsid(); os.execv(sys.argv[1], sys.argv[1:])' \
    "$KV" --port "$PORT" --shards "$SHARDS" --base "$BASE" >"$WORK/server.log" 2>&1 &
  PID=$!
  # Poll until it accepts connections (deadline 30 s: it starts processes first) or dies.
  if python3 - "$PORT" "$PID" <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit(1)
PY
  then
    break
  fi
  kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null
  for p in $(session_pids "$PID"); do kill -KILL "$p" 2>/dev/null; done
  PID=""
done
if [[ -z "$PID" ]]; then
  echo "FAIL: thespian-kv did not start"; cat "$WORK/server.log"; exit 1
fi
SID=$PID
echo "thespian-kv pid $PID on 127.0.0.1:$PORT ($BASE)"

FAILED=0
PASSED=0
pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

if grep -q "shards on $BASE" "$WORK/server.log"; then pass; else
  fail "not running on $BASE:"; cat "$WORK/server.log"; fi

# The shards are processes of their own: besides the server, at least an admin, a logger and one
# process per shard run below it.
TRACKED=$( (session_pids "$PID"; descendant_pids "$PID") | sort -u | grep -vx "$PID")
RUNNING=$(echo "$TRACKED" | grep -c .)
if [[ $RUNNING -ge $((SHARDS + 2)) ]]; then pass; else
  fail "only $RUNNING processes besides the server (want at least $((SHARDS + 2)))"; fi

# expect "<exact redis-cli --no-raw output>" ARGS...
expect() {
  local want=$1; shift
  local got
  got=$(timeout 20 redis-cli -p "$PORT" --no-raw "$@" 2>&1)
  if [[ "$got" == "$want" ]]; then pass; else
    fail "$(printf 'redis-cli %s\n  want: %q\n  got:  %q' "$*" "$want" "$got")"
  fi
}

expect 'PONG' PING
expect '(nil)' GET missing
expect 'OK' SET foo bar
expect '"bar"' GET foo
expect '(integer) 1' INCR counter
expect '(integer) 2' INCR counter
expect '(error) ERR value is not an integer or out of range' INCR foo
for k in a b c d e f; do expect 'OK' SET "k$k" "v$k"; done
expect '1) "va"
2) (nil)
3) "vc"
4) "vf"' MGET ka nokey kc kf
expect '(integer) 3' EXISTS ka kb nokey kc
expect '(integer) 2' DEL ka kb nokey
expect '(nil)' GET ka
expect '(error) ERR wrong number of arguments for '"'"'get'"'"' command' GET

# Malformed input: a RESP error, the connection closed; pipelined commands before it answered.
python3 - "$PORT" <<'PY' || FAILED=$((FAILED + 1))
import socket, sys
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(b"*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n$abc\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
want = b"$3\r\nbar\r\n-ERR Protocol error: invalid bulk length\r\n"
if data != want:
    print(f"FAIL: malformed input\n  want: {want!r}\n  got:  {data!r}")
    sys.exit(1)
PY
expect '"2"' GET counter  # still serving after the bad client

# Big values: a request reaches a shard as one frame of at most 64 MiB, so the server refuses a
# command over its 32 MiB request limit (the connection stays usable) and cuts a pipeline of
# commands that together exceed it into several batches.
python3 - "$PORT" <<'PY' || FAILED=$((FAILED + 1))
import socket, sys
port = int(sys.argv[1])
def cmd(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
def read_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    return data
failures = 0
def check(name, got, want):
    global failures
    if got != want:
        failures += 1
        print(f"FAIL: {name}\n  want: {want[:80]!r}\n  got:  {got[:80]!r}")
s = socket.create_connection(("127.0.0.1", port), timeout=60)
too_big = b"ERR request too large for a shard in another process (limit 32 MiB)"
s.sendall(cmd(b"SET", b"huge", b"x" * (33 << 20)) + cmd(b"PING"))
check("over the limit", read_exact(s, len(too_big) + 3 + 7), b"-" + too_big + b"\r\n+PONG\r\n")
value = b"y" * (24 << 20)  # three of them: one batch would be a 72 MiB frame
s.sendall(cmd(b"SET", b"big1", value) + cmd(b"SET", b"big2", value) + cmd(b"SET", b"big3", value))
check("pipelined big values", read_exact(s, 15), b"+OK\r\n" * 3)
s.sendall(cmd(b"GET", b"big3"))
want = b"$%d\r\n" % len(value) + value + b"\r\n"
check("big value read back", read_exact(s, len(want)), want)
sys.exit(1 if failures else 0)
PY
expect '(integer) 3' DEL big1 big2 big3

# Stop: exit code 0 after SIGTERM, and every process of the session ends (no orphan survives).
if kill -0 "$PID" 2>/dev/null; then
  kill "$PID"; wait "$PID"; rc=$?; PID=""
  if [[ $rc == 0 ]]; then pass; else fail "exit code $rc after SIGTERM"; cat "$WORK/server.log"; fi
  left=""
  for _ in $(seq 1 200); do
    left=$( (session_pids "$SID"; tracked_left) | sort -u)
    [[ -z "$left" ]] && break
    sleep 0.05
  done
  if [[ -z "$left" ]]; then pass; SID=""; else
    fail "processes left after the server stopped: ${left//$'\n'/ }"; fi
else
  fail "server died"; cat "$WORK/server.log"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
