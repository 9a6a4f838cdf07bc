#!/usr/bin/env bash
# redis-benchmark against thespian-kv (examples/06-kv-server) and against a real redis-server,
# both on loopback, in the same run and in alternating rounds, so that the ratio holds on a noisy
# machine. Reports ops/s per command (median over the rounds) and our ratio to Redis, unpipelined
# and pipelined (-P 16). Every reply is checked: a run with an error line fails the script, and a
# final INCR counter must equal the number of INCRs sent.
#
#   bench/kv_vs_redis.sh THESPIAN_KV [-n REQUESTS] [-c CLIENTS] [-r ROUNDS] [-s SHARDS] [-t TESTS]
#                        [-T ACTOR_THREADS]
#
# Defaults: -n 200000 -c 50 -r 3 -s 4 -t set,get,incr (the issue's acceptance run), and the
# server's default actor pool (-T sets thespian-kv --threads). Needs
# redis-benchmark (redis-tools) and, for the Redis rows, redis-server (Debian `redis-server`;
# without it only our numbers are printed). Both servers are started on free ports and stopped
# by PID when the script ends, however it ends.
set -euo pipefail

kv=${1:?usage: kv_vs_redis.sh THESPIAN_KV [-n N] [-c CLIENTS] [-r ROUNDS] [-s SHARDS] [-t TESTS]}
shift
requests=200000 clients=50 rounds=3 shards=4 tests=set,get,incr threads=()
while getopts "n:c:r:s:t:T:" opt; do
  case "$opt" in
    n) requests=$OPTARG ;; c) clients=$OPTARG ;; r) rounds=$OPTARG ;;
    s) shards=$OPTARG ;; t) tests=$OPTARG ;; T) threads=(--threads "$OPTARG") ;;
    *) echo "kv_vs_redis.sh: unknown option" >&2; exit 2 ;;
  esac
done
command -v redis-benchmark >/dev/null || { echo "kv_vs_redis.sh: redis-benchmark not found (apt-get install redis-tools)" >&2; exit 2; }
[[ -x "$kv" ]] || { echo "kv_vs_redis.sh: $kv is not an executable" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_ping PORT: until the server answers PING (deadline 10 s).
wait_for_ping() {
  local i
  for ((i = 0; i < 200; i++)); do
    if [[ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" == PONG ]]; then return 0; fi
    sleep 0.05  # polling a server that is starting; bounded by the loop
  done
  echo "kv_vs_redis.sh: server on port $1 did not answer PING within 10 s" >&2
  return 1
}

kv_port=$(free_port)
"$kv" --port "$kv_port" --shards "$shards" "${threads[@]}" >"$work/kv.log" 2>&1 &
pids+=($!)
wait_for_ping "$kv_port"

servers=(thespian-kv)
ports=("$kv_port")
if command -v redis-server >/dev/null; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --logfile "$work/redis.log" &
  pids+=($!)
  wait_for_ping "$redis_port"
  servers+=(redis-server)
  ports+=("$redis_port")
else
  echo "kv_vs_redis.sh: redis-server not installed (apt-get install redis-server): our rows only" >&2
fi

# run SERVER_INDEX PIPELINE ROUND: one redis-benchmark run; appends "server mode test rps" lines.
run() {
  local i=$1 pipeline=$2 out="$work/run.csv" err="$work/run.err"
  redis-cli -h 127.0.0.1 -p "${ports[$i]}" DEL counter:__rand_int__ >/dev/null
  if ! redis-benchmark -h 127.0.0.1 -p "${ports[$i]}" -t "$tests" -n "$requests" -c "$clients" \
       -P "$pipeline" --csv >"$out" 2>"$err"; then
    echo "kv_vs_redis.sh: redis-benchmark against ${servers[$i]} failed: $(head -c 500 "$err")" >&2
    exit 1
  fi
  if grep -qi "error" "$out" "$err"; then
    echo "kv_vs_redis.sh: redis-benchmark against ${servers[$i]} reported errors:" >&2
    grep -i "error" "$out" "$err" | head -5 >&2
    exit 1
  fi
  tail -n +2 "$out" | tr -d '"' | awk -F, -v s="${servers[$i]}" -v p="$pipeline" \
    '{ print s, (p == 1 ? "unpipelined" : "P" p), $1, $2 }' >>"$work/results"
}

: >"$work/results"
echo "kv_vs_redis: -t $tests -n $requests -c $clients, $rounds alternating rounds, $shards shards" >&2
for pipeline in 1 16; do
  for ((round = 1; round <= rounds; round++)); do
    for i in "${!servers[@]}"; do
      echo "  round $round/$rounds, -P $pipeline, ${servers[$i]}" >&2
      run "$i" "$pipeline"
    done
  done
done

# Every INCR of the last round hit one key (redis-benchmark's default "counter:__rand_int__"
# without -r): its value must be exactly the number of INCRs sent in that round.
if [[ ",$tests," == *,incr,* ]]; then
  for i in "${!servers[@]}"; do
    value=$(redis-cli -h 127.0.0.1 -p "${ports[$i]}" GET counter:__rand_int__)
    if [[ "$value" != "$requests" ]]; then
      echo "kv_vs_redis.sh: ${servers[$i]}: counter is '$value' after $requests INCRs" >&2
      exit 1
    fi
  done
fi

python3 - "$work/results" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    server, mode, test, rps = line.split()
    rows[(mode, test, server)].append(float(rps))
modes = sorted({k[0] for k in rows}, key=lambda m: (m != "unpipelined", m))
tests = list(dict.fromkeys(k[1] for k in rows))
print(f"{'mode':<12} {'command':<8} {'thespian-kv ops/s':>18} {'redis-server ops/s':>19} {'ratio':>6}")
worst = None
for mode in modes:
    for test in tests:
        ours = rows.get((mode, test, "thespian-kv"))
        theirs = rows.get((mode, test, "redis-server"))
        if not ours:
            continue
        o = statistics.median(ours)
        t = statistics.median(theirs) if theirs else None
        ratio = f"{o / t:6.2f}" if t else "     -"
        ts = f"{t:19,.0f}" if t else f"{'-':>19}"
        print(f"{mode:<12} {test:<8} {o:18,.0f} {ts} {ratio}")
        if t and mode == "unpipelined":
            worst = o / t if worst is None else min(worst, o / t)
if worst is not None:
    print(f"lowest unpipelined ratio: {worst:.2f} (medians of {len(ours)} rounds)")
EOF
