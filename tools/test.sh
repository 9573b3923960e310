#!/usr/bin/env bash
# The whole test suite: unit tests (plain and under ASan+UBSan), the Lua
# integration suite on real guests, the examples, and the known-outcome cases
# (crashes, sandbox kills, timeouts, bad config, Ctrl-C). Ends with one line:
#   tests: N passed, N failed[, N skipped]
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0

# Each stage header says how long the one before took, so a CI log shows where the time goes.
stage_started=$SECONDS
stage() {
  printf '\n== %s   (previous stage: %ss, total: %ss)\n' "$*" "$((SECONDS - stage_started))" "$SECONDS"
  stage_started=$SECONDS
}

# Adds a "passed failed skipped" line for the summary.
count() { echo "$1 $2 ${3:-0}" >>"$results/counts"; }

run_unit_tests() {  # $1: build dir, $2: label, $3: extra meson test flags, $4...: meson test suites
  local dir=$1 label=$2 flags=$3
  shift 3
  local reports="$results/gtest-$label"
  mkdir -p "$reports"
  local suites=()
  for suite in "$@"; do suites+=(--suite "$suite"); done
  # gtest writes one JSON report per executable into $reports.
  # shellcheck disable=SC2086  # $flags is empty or one flag
  GTEST_OUTPUT="json:$reports/" meson test -C "$dir" $flags "${suites[@]}" --print-errorlogs >"$results/meson-$label.log" 2>&1
  local meson_status=$?
  tail -n 15 "$results/meson-$label.log"
  if [ "$meson_status" -ne 0 ]; then
    # What failed and why, so a CI log alone is enough to act on.
    echo "-- failures ($label):"
    # meson shows only the tail of a long log; its testlog.txt has all of it.
    grep -E -A14 ': Failure$|^guest console:|^\[  FAILED  \]|Sanitizer|runtime error' "$dir/meson-logs/testlog.txt" |
      head -n 400
  fi
  read -r p f s < <(python3 tools/count_results.py gtest "$reports")
  # An executable that died before writing its report still fails the run.
  if [ "$meson_status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "meson test ($label) failed without a failing gtest report: see above"
    f=1
  fi
  [ "$meson_status" -eq 0 ] || status=1
  count "$p" "$f" "$s"
}

stage "build"
tools/build.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

stage "unit tests (and the agent's own guest boot tests)"
run_unit_tests build plain "" unit guest

stage "unit tests under ASan+UBSan"
if [ ! -f build-asan/build.ninja ]; then
  # -O0 and line tables only: what a sanitizer report needs; with ASan and
  # UBSan instrumenting every access, -O1 takes half as long again to compile.
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=0 \
    -Dcpp_args=-g1 -Dc_args=-g1 >/dev/null
fi
# Only what the unit suite runs: a sanitizer build of the rest (the guest
# image, benches) takes minutes and is never run.
mapfile -t asan_targets < <(tools/suite_targets.py build-asan unit)
if ! ninja -C build-asan "${asan_targets[@]}" >"$results/asan-build.log" 2>&1; then
  tail -n 40 "$results/asan-build.log"
  echo "the sanitizer build failed"
  count 0 1
  status=1
else
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_unit_tests build-asan asan --no-rebuild unit
fi

stage "Lua integration suite (real guests)"
# tests/lua_qemu_only: files whose top level needs what --vmm local lacks (snapshots).
build/supervisor/provium tests/lua tests/lua_qemu_only --include-slow --json >"$results/lua.json" || status=1
python3 tools/count_results.py provium "$results/lua.json" >>"$results/counts" || status=1

stage "network tests again on the kernel datapath (bridges, TAPs, nftables in per-file namespaces)"
build/supervisor/provium --net kernel tests/lua/networking.test.lua tests/lua/network_impairments.test.lua \
  --include-slow --json >"$results/lua-kernel-net.json" || status=1
python3 tools/count_results.py provium "$results/lua-kernel-net.json" >>"$results/counts" || status=1

stage "Lua integration suite under --vmm local (the agent as a contained host process)"
build/supervisor/provium --vmm local tests/lua --include-slow --no-tag needs-kernel --json >"$results/lua-local.json" || status=1
python3 tools/count_results.py provium "$results/lua-local.json" >>"$results/counts" || status=1

stage "examples"
build/supervisor/provium examples --json >"$results/examples.json" || status=1
python3 tools/count_results.py provium "$results/examples.json" >>"$results/counts" || status=1

stage "known-outcome cases"
# Debian's interpreter: python3-msgpack (install-deps.sh) is installed for it, whatever else is on PATH.
/usr/bin/python3 tests/integration/run_cases.py | tee "$results/cases.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
read -r p f < <(sed -n 's/^cases: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$results/cases.txt")
count "${p:-0}" "${f:-1}"

stage "summary"
read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$results/counts")
[ "$failed" -eq 0 ] || status=1
echo
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit $status
