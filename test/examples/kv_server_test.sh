#!/usr/bin/env bash
# End-to-end test of examples/06-kv-server (thespian-kv): starts it on a free loopback port,
# checks exact replies of every command through redis-cli, raw protocol cases (pipelining, split
# commands, inline commands, malformed and absurd input, clients vanishing mid-command) through a
# python3 socket, then runs redis-benchmark and checks it saw no error.
# Needs redis-cli and redis-benchmark (Debian package redis-tools) and python3.
# Usage: kv_server_test.sh /path/to/thespian-kv
set -uo pipefail

KV=${1:?usage: kv_server_test.sh /path/to/thespian-kv}
for tool in redis-cli redis-benchmark python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL: $tool not found (apt-get install -y --no-install-recommends redis-tools python3)"
    exit 1
  fi
done

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then
    kill "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Start the server; retry with another port if the chosen one was taken in between.
PORT=""
for attempt in 1 2 3; do
  PORT=$(free_port)
  "$KV" --port "$PORT" --shards 4 >"$WORK/server.log" 2>&1 &
  PID=$!
  # Poll until it accepts connections (deadline 20 s) or dies.
  if python3 - "$PORT" "$PID" <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 20
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
  kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
done
if [[ -z "$PID" ]]; then
  echo "FAIL: thespian-kv did not start"; cat "$WORK/server.log"; exit 1
fi
echo "thespian-kv pid $PID on 127.0.0.1:$PORT"

FAILED=0
PASSED=0

# expect "<exact redis-cli --no-raw output>" ARGS...
expect() {
  local want=$1; shift
  local got
  got=$(timeout 20 redis-cli -p "$PORT" --no-raw "$@" 2>&1)
  if [[ "$got" == "$want" ]]; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    printf 'FAIL: redis-cli %s\n  want: %q\n  got:  %q\n' "$*" "$want" "$got"
  fi
}

expect 'PONG' PING
expect '"hello world"' PING "hello world"
expect '"abc"' ECHO abc
expect '(nil)' GET missing
expect 'OK' SET foo bar
expect '"bar"' GET foo
expect 'OK' SET foo baz
expect '"baz"' GET foo
expect 'OK' SET "key with spaces" "value
with newline"
expect '"value\nwith newline"' GET "key with spaces"
expect '(integer) 1' INCR counter
expect '(integer) 2' INCR counter
expect '"2"' GET counter
expect 'OK' SET neg -5
expect '(integer) -4' INCR neg
expect '(error) ERR value is not an integer or out of range' INCR foo
expect 'OK' SET big 9223372036854775807
expect '(error) ERR increment or decrement would overflow' INCR big
expect 'OK' SET padded ' 1'
expect '(error) ERR value is not an integer or out of range' INCR padded
for k in a b c d e f g h; do expect 'OK' SET "k$k" "v$k"; done
expect '1) "va"
2) (nil)
3) "vc"
4) "vh"
5) "va"' MGET ka nokey kc kh ka
expect '(integer) 4' EXISTS ka kb ka nokey kc
expect '(integer) 0' EXISTS nokey
expect '(integer) 3' DEL ka kb kb nokey kc
expect '(integer) 0' EXISTS ka kb kc
expect '(integer) 5' EXISTS kd ke kf kg kh
expect '(nil)' GET ka
expect '(integer) 1' DEL foo
expect '(integer) 0' DEL foo
expect 'PONG' ping
expect '"vd"' gEt kd
expect '(error) ERR unknown command '"'"'FOO'"'"', with args beginning with: '"'"'a'"'"' '"'"'b'"'"' ' FOO a b
expect '(error) ERR wrong number of arguments for '"'"'get'"'"' command' GET
expect '(error) ERR wrong number of arguments for '"'"'get'"'"' command' GET a b
expect '(error) ERR wrong number of arguments for '"'"'set'"'"' command' SET a
expect '(error) ERR syntax error' SET a b c
expect '(error) ERR wrong number of arguments for '"'"'incr'"'"' command' INCR
expect '(error) ERR wrong number of arguments for '"'"'mget'"'"' command' MGET
expect '(error) ERR wrong number of arguments for '"'"'del'"'"' command' DEL
expect '(error) ERR wrong number of arguments for '"'"'exists'"'"' command' EXISTS
expect '(error) ERR wrong number of arguments for '"'"'ping'"'"' command' PING a b
expect '(empty array)' COMMAND
expect '(empty array)' COMMAND DOCS
expect '1) "save"
2) ""' CONFIG GET save
expect '1) "appendonly"
2) "no"' CONFIG GET appendonly
expect '(empty array)' CONFIG GET maxmemory
expect 'OK' QUIT

# Raw protocol cases: send bytes (optionally in pieces), compare the exact bytes received until
# the server closes the connection or goes quiet.
python3 - "$PORT" <<'PY' || FAILED=$((FAILED + 1))
import socket, sys, time
port = int(sys.argv[1])
failures = 0

def exchange(pieces, expect_close, quiet=0.5):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, p in enumerate(pieces):
        s.sendall(p)
        if i + 1 < len(pieces):
            # The pause is the thing under test: it makes the server see each piece in a
            # read of its own (a command split across reads); correctness never depends on it.
            time.sleep(0.05)
    data = b""
    closed = False
    s.settimeout(quiet if not expect_close else 10)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    return data, closed

def check(name, pieces, want, expect_close=False):
    global failures
    got, closed = exchange(pieces, expect_close)
    if got != want or closed != expect_close:
        failures += 1
        print(f"FAIL: {name}\n  want: {want!r} closed={expect_close}\n  got:  {got!r} closed={closed}")

check("pipelined", [b"PING\r\n*3\r\n$3\r\nSET\r\n$2\r\npk\r\n$2\r\npv\r\n*2\r\n$3\r\nGET\r\n$2\r\npk\r\n*2\r\n$4\r\nINCR\r\n$2\r\npc\r\n"],
      b"+PONG\r\n+OK\r\n$2\r\npv\r\n:1\r\n")
def resp(*commands):
    out = b""
    for c in commands:
        out += b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in c)
    return out
# Overlapping asks in one pipeline must still behave as if run in order, also around the
# multi-key commands that run alone.
check("pipelined order", [resp([b"SET", b"po", b"1"], [b"INCR", b"po"], [b"GET", b"po"],
                               [b"MGET", b"po", b"pk"], [b"SET", b"po", b"5"], [b"INCR", b"po"],
                               [b"DEL", b"po", b"nope"], [b"GET", b"po"], [b"EXISTS", b"po"],
                               [b"INCR", b"po"], [b"QUIT"], [b"PING"])],
      b"+OK\r\n:2\r\n$1\r\n2\r\n*2\r\n$1\r\n2\r\n$2\r\npv\r\n+OK\r\n:6\r\n:1\r\n"
      b"$-1\r\n:0\r\n:1\r\n+OK\r\n", expect_close=True)
check("split across reads", [b"*2\r\n$3\r\nG", b"ET\r\n$2\r", b"\npk", b"\r\n*1\r", b"\n$4\r\nPING\r\n"],
      b"$2\r\npv\r\n+PONG\r\n")
every_byte = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"
check("one byte per read", [every_byte[i:i + 1] for i in range(len(every_byte))], b"$5\r\nhello\r\n")
check("inline", [b"PING\r\n", b"ECHO \"a b\"\r\nGET pk\nSET il 'x y'\r\nGET il\r\n\r\n"],
      b"+PONG\r\n$3\r\na b\r\n$2\r\npv\r\n+OK\r\n$3\r\nx y\r\n")
check("binary value", [b"*3\r\n$3\r\nSET\r\n$3\r\nbin\r\n$4\r\n\x00\r\n\xff\r\n*2\r\n$3\r\nGET\r\n$3\r\nbin\r\n"],
      b"+OK\r\n$4\r\n\x00\r\n\xff\r\n")
check("quit", [b"PING\r\nQUIT\r\nPING\r\n"], b"+PONG\r\n+OK\r\n", expect_close=True)
check("bad bulk length", [b"*1\r\n$abc\r\n"], b"-ERR Protocol error: invalid bulk length\r\n", True)
check("absurd bulk length", [b"*2\r\n$3\r\nGET\r\n$99999999999999\r\n"],
      b"-ERR Protocol error: invalid bulk length\r\n", True)
check("bulk above 512MB", [b"*2\r\n$3\r\nGET\r\n$536870913\r\n"],
      b"-ERR Protocol error: invalid bulk length\r\n", True)
check("absurd multibulk length", [b"*99999999999\r\n"],
      b"-ERR Protocol error: invalid multibulk length\r\n", True)
check("not a bulk", [b"PING\r\n*1\r\n:5\r\n"], b"+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n", True)
check("unbalanced quotes", [b"SET \"a b\r\n"], b"-ERR Protocol error: unbalanced quotes in request\r\n", True)
check("inline too big", [b"x" * 70000], b"-ERR Protocol error: too big inline request\r\n", True)
check("replies before error", [b"*2\r\n$4\r\nECHO\r\n$2\r\nok\r\n*x\r\n"],
      b"$2\r\nok\r\n-ERR Protocol error: invalid multibulk length\r\n", True)
check("empty commands skipped", [b"*0\r\n\r\n*-1\r\nPING\r\n"], b"+PONG\r\n")

sys.exit(1 if failures else 0)
PY

# Clients that disconnect mid-command (mid-header, mid-bulk, or right after a full command whose
# reply they never read) leave nothing behind: the server's open descriptors return to baseline
# and it keeps serving.
fd_count() { ls "/proc/$PID/fd" 2>/dev/null | wc -l; }
BASE_FDS=$(fd_count)
python3 - "$PORT" <<'PY' || FAILED=$((FAILED + 1))
import socket, sys
port = int(sys.argv[1])
partials = [b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$100\r\nabc", b"*2\r\n$3\r\nGE", b"*2\r\n$3\r\nGET\r\n$1\r\nx\r\n",
            b"SET inline-without-newline", b"*2\r\n$4\r\nINCR\r\n$4\r\ngone\r\n"]
for i in range(300):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(partials[i % len(partials)])
    if i % 2:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
    s.close()
PY
fds_ok=0
for _ in $(seq 1 200); do
  if [[ $(fd_count) -le $BASE_FDS ]]; then fds_ok=1; break; fi
  sleep 0.05
done
if [[ $fds_ok == 1 ]]; then PASSED=$((PASSED + 1)); else
  FAILED=$((FAILED + 1)); echo "FAIL: descriptors leaked: $BASE_FDS before, $(fd_count) after"; fi
expect 'PONG' PING

# redis-benchmark: must complete every test with no error reply.
BENCH=$(timeout 240 redis-benchmark -p "$PORT" -n 20000 -c 20 -t set,get,incr,ping -q 2>&1 | tr '\r' '\n')
bench_rc=${PIPESTATUS[0]}
RESULTS=$(grep 'requests per second' <<<"$BENCH" | sed 's/^ *//')
echo "$RESULTS"
if [[ $bench_rc != 0 ]] || grep -qiE 'error|warning' <<<"$BENCH" ||
   [[ $(grep -cE '^(PING_INLINE|PING_MBULK|SET|GET|INCR): ' <<<"$RESULTS") != 5 ]]; then
  FAILED=$((FAILED + 1))
  echo "FAIL: redis-benchmark (rc $bench_rc):"; grep -v '^ *$' <<<"$BENCH" | grep -v 'rps=' | tail -20
else
  PASSED=$((PASSED + 1))
fi
# redis-benchmark's INCR test increments one key, "counter:__rand_int__", 20000 times.
expect '"20000"' GET counter:__rand_int__

# The server is still alive and stops cleanly on SIGTERM.
if kill -0 "$PID" 2>/dev/null; then
  kill "$PID"; wait "$PID"; rc=$?; PID=""
  if [[ $rc == 0 ]]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: exit code $rc after SIGTERM"; fi
else
  FAILED=$((FAILED + 1)); echo "FAIL: server died"; cat "$WORK/server.log"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
