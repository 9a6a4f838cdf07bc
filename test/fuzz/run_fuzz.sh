#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded number of executions (THESPIAN_FUZZ_RUNS, default
# 1000000) from its checked-in seed corpus; new inputs go to a scratch work directory so the
# corpus in the repository stays small. Exit status: the fuzzer's (non-zero on any finding).
#   run_fuzz.sh TARGET CORPUS_DIR WORK_DIR
set -euo pipefail
target=$1 corpus=$2 work=$3
runs=${THESPIAN_FUZZ_RUNS:-1000000}
rm -rf "$work"
mkdir -p "$work/new" "$work/artifacts"
start=$SECONDS
"$target" -runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/new" "$corpus"
echo "run_fuzz.sh: $runs executions of $(basename "$target") without a finding in $((SECONDS - start)) s"
