#!/usr/bin/env bash
# The test command: builds and runs the whole test suite.
#   1. scripts/setup.sh (installs missing Debian packages)
#   2. release pass:   build dir `build`
#   3. sanitizer passes chosen by THESPIAN_SANITIZERS (default "asan tsan", "none" to skip):
#        asan -> `build-asan` (address,undefined), tsan -> `build-tsan` (thread)
#   4. fuzz pass (THESPIAN_FUZZ=0 skips it): `build-fuzz`, clang, libFuzzer targets run bounded
#   5. scripts/summarize_tests.py over every pass; its last line is `N passed, M failed`.
# Exits non-zero if any step or test failed in any pass, or if no test case ran.
# THESPIAN_TSAN_SETARCH=auto|always|never controls running TSan tests under `setarch -R`.
# THESPIAN_TEST_BUDGET (seconds, default 4800) bounds the whole run so that the summary is always
# printed: a pass still running when the budget is spent is stopped (meson marks its running
# tests INTERRUPT) and counts as failed. THESPIAN_TEST_JOBS (default 2) sets the parallelism.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
JOBS=${THESPIAN_TEST_JOBS:-2}
SANITIZERS=${THESPIAN_SANITIZERS:-asan tsan}
BUDGET=${THESPIAN_TEST_BUDGET:-4800}
start_all=$SECONDS

if ! bash scripts/setup.sh; then
  echo "test.sh: scripts/setup.sh failed; cannot build" >&2
  echo "0 passed, 0 failed"
  exit 1
fi

# ccache when present (meson records the compiler at configure time).
if [[ -z "${CXX:-}" ]] && command -v ccache >/dev/null 2>&1; then
  export CXX="ccache g++"
fi

failures=0
passes=()

note() { printf '\n=== %s\n' "$*"; }

# configure DIR [meson options...]: forget DIR's previous results, set it up unless it is
# already configured.
configure() {
  local dir=$1; shift
  rm -f "$dir"/meson-logs/testlog*   # testlog.json, or testlog-<wrapper>.json with --wrapper
  if [[ -d "$dir" ]]; then find "$dir" -name '*.boost-report.xml' -delete 2>/dev/null || true; fi
  if [[ -f "$dir/meson-private/coredata.dat" && -f "$dir/build.ninja" ]]; then
    return 0
  elif [[ -f "$dir/meson-private/coredata.dat" ]]; then
    meson setup --wipe "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi
}

# run_pass DIR [meson test options...]: compile DIR and run its tests (after `configure DIR`).
# Environment for the tests comes from the caller; PASS_TARGETS (optional) limits what is
# compiled. A pass that fails to configure or compile leaves no meson-logs/testlog*.json, which
# the summary counts as a failure.
run_pass() {
  local dir=$1; shift
  local t0=$SECONDS
  local left=$((BUDGET - (SECONDS - start_all)))
  if (( left < 60 )); then
    echo "test.sh: time budget (${BUDGET} s) spent; skipping $dir" >&2
    failures=$((failures + 1))
    return 0
  fi
  if ! timeout --kill-after=60 "$left" meson compile -C "$dir" -j "$JOBS" ${PASS_TARGETS:-}; then
    echo "test.sh: compilation of $dir failed" >&2
    failures=$((failures + 1))
    return 0
  fi
  left=$((BUDGET - (SECONDS - start_all)))
  if (( left < 30 )); then left=30; fi
  if ! timeout --kill-after=60 "$left" \
       meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes "$JOBS" "$@"; then
    failures=$((failures + 1))
  fi
  echo "test.sh: pass $dir took $((SECONDS - t0)) s"
}

# gcc 12's TSan dies with "unexpected memory mapping" on kernels with large vm.mmap_rnd_bits, at
# random depending on where ASLR puts things. Running with ASLR disabled (`setarch -R`, what newer
# TSan runtimes do by re-exec) avoids it and changes nothing else, so: use setarch whenever a TSan
# probe runs under it; otherwise (personality() forbidden, e.g. some containers) run unwrapped.
# Prints the wrapper to use ("" or "setarch <arch> -R"). THESPIAN_TSAN_SETARCH=always|never forces.
tsan_wrapper() {
  local mode=${THESPIAN_TSAN_SETARCH:-auto}
  local setarch_cmd="setarch $(uname -m) -R"
  case "$mode" in
    always) echo "$setarch_cmd"; return 0 ;;
    never) echo ""; return 0 ;;
  esac
  local probe_dir="$ROOT/build-tsan/tsan-probe"
  mkdir -p "$probe_dir"
  cat > "$probe_dir/probe.cpp" <<'EOF'
#include <thread>
int main() { int x = 0; std::thread t([&] { x = 1; }); t.join(); return x == 1 ? 0 : 1; }
EOF
  if ! g++ -std=c++20 -O1 -fsanitize=thread "$probe_dir/probe.cpp" -o "$probe_dir/probe" \
       >"$probe_dir/compile.log" 2>&1; then
    echo "test.sh: cannot build a TSan probe (see $probe_dir/compile.log); running unwrapped" >&2
    echo ""; return 0
  fi
  local i ok=1
  for i in 1 2 3; do
    if ! $setarch_cmd "$probe_dir/probe" >"$probe_dir/run-setarch.log" 2>&1; then ok=0; break; fi
  done
  if [[ $ok -eq 1 ]]; then
    echo "test.sh: running TSan tests under '$setarch_cmd' (ASLR disabled)" >&2
    echo "$setarch_cmd"; return 0
  fi
  echo "test.sh: '$setarch_cmd' unusable here: $(head -c 300 "$probe_dir/run-setarch.log")" >&2
  for i in 1 2 3 4 5; do
    if ! "$probe_dir/probe" >"$probe_dir/run.log" 2>&1; then
      echo "test.sh: WARNING: TSan fails here even on a trivial program:" \
           "$(head -c 300 "$probe_dir/run.log")" >&2
      break
    fi
  done
  echo ""
}

# Does LeakSanitizer work here (it needs ptrace-like access, denied in some containers)?
lsan_works() {
  local probe_dir="$ROOT/build-asan/lsan-probe"
  mkdir -p "$probe_dir"
  printf 'int main() { return 0; }\n' > "$probe_dir/probe.cpp"
  g++ -fsanitize=address "$probe_dir/probe.cpp" -o "$probe_dir/probe" >/dev/null 2>&1 || return 0
  ASAN_OPTIONS=detect_leaks=1 "$probe_dir/probe" >/dev/null 2>&1
}

# --- release pass ---------------------------------------------------------------------------
note "release build (build)"
if configure build --buildtype=release; then
  passes+=(build)
  run_pass build
else
  echo "test.sh: configuring build failed" >&2
  failures=$((failures + 1)); passes+=(build)
fi

# --- sanitizer passes -----------------------------------------------------------------------
# -O1 and line tables only (-g1): sanitizer builds of the asio/coroutine test TUs are the bulk
# of CI time, and these settings halve it while keeping file:line in every report. The test
# programs' own code at -O0 (-Dtest_optimization=0; the library under test stays at -O1) halves
# what is left of their compile time: those TUs were ~70% of each sanitizer pass.
san_opts=(-Dbuildtype=debugoptimized -Doptimization=1 -Dcpp_args=-g1 -Dtest_optimization=0
          -Dbench=false -Dexamples=false)
for san in $SANITIZERS; do
  case "$san" in
    none) continue ;;
    asan)
      note "ASan+UBSan pass (build-asan)"
      passes+=(build-asan)
      if ! configure build-asan -Db_sanitize=address,undefined -Db_lundef=false "${san_opts[@]}"; then
        echo "test.sh: configuring build-asan failed" >&2
        failures=$((failures + 1)); continue
      fi
      leaks=1
      if ! lsan_works; then
        echo "test.sh: LeakSanitizer does not work in this environment; detect_leaks=0" >&2
        leaks=0
      fi
      ASAN_OPTIONS="detect_leaks=$leaks:abort_on_error=1" \
      UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
      BOOST_TEST_CATCH_SYSTEM_ERRORS=no \
        run_pass build-asan
      ;;
    tsan)
      note "TSan pass (build-tsan)"
      passes+=(build-tsan)
      if ! configure build-tsan -Db_sanitize=thread "${san_opts[@]}"; then
        echo "test.sh: configuring build-tsan failed" >&2
        failures=$((failures + 1)); continue
      fi
      wrapper=$(tsan_wrapper)
      wrap_args=()
      if [[ -n "$wrapper" ]]; then wrap_args=(--wrapper "$wrapper"); fi
      TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" \
      BOOST_TEST_CATCH_SYSTEM_ERRORS=no \
        run_pass build-tsan "${wrap_args[@]}"
      ;;
    *)
      echo "test.sh: unknown sanitizer '$san' in THESPIAN_SANITIZERS (use asan, tsan or none)" >&2
      failures=$((failures + 1))
      ;;
  esac
done

# --- fuzz pass ------------------------------------------------------------------------------
# The libFuzzer targets (test/fuzz/), built with clang in `build-fuzz`, each run for
# THESPIAN_FUZZ_RUNS executions (default here 100000, about a minute; the meson test alone
# defaults to 1000000). THESPIAN_FUZZ=0 skips the pass.
if [[ "${THESPIAN_FUZZ:-1}" != 0 ]]; then
  note "fuzz pass (build-fuzz)"
  passes+=(build-fuzz)
  if CXX="$(command -v ccache >/dev/null 2>&1 && echo 'ccache ')clang++" \
       configure build-fuzz -Dfuzz=true -Dtests=false -Dbench=false -Dexamples=false; then
    PASS_TARGETS=frame_decoder_fuzz THESPIAN_FUZZ_RUNS=${THESPIAN_FUZZ_RUNS:-100000} \
      run_pass build-fuzz --suite fuzz
  else
    echo "test.sh: configuring build-fuzz failed (clang with libFuzzer missing?)" >&2
    failures=$((failures + 1))
  fi
fi

# --- summary --------------------------------------------------------------------------------
note "summary ($((SECONDS - start_all)) s)"
python3 scripts/summarize_tests.py "${passes[@]}"
summary_rc=$?
if [[ $summary_rc -ne 0 || $failures -ne 0 ]]; then
  exit 1
fi
exit 0
