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

stage() { printf '\n== %s\n' "$*"; }

# Adds a "passed failed skipped" line for the summary.
count() { echo "$1 $2 ${3:-0}" >>"$results/counts"; }

run_unit_tests() {  # $1: build dir, $2: label
  local dir=$1 label=$2
  for exe in $(find "$dir/tests/unit" -maxdepth 2 -type f -name '*-unit-tests' | sort); do
    local report="$results/$(basename "$exe")-$label.json"
    "$exe" --gtest_brief=1 --gtest_output="json:$report" || status=1
    if [ -f "$report" ]; then
      read -r p f s < <(python3 tools/count_results.py gtest "$report")
      count "$p" "$f" "$s"
    else
      echo "$exe ($label) crashed before reporting"
      count 0 1
    fi
  done
}

stage "build"
tools/build.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

stage "unit tests"
run_unit_tests build plain

stage "unit tests under ASan+UBSan"
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
if ninja -C build-asan $(cd build-asan && ninja -t targets all | grep -o '^tests/unit/[a-z]*/[a-z]*-unit-tests' | sort -u) >/dev/null; then
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_unit_tests build-asan asan
else
  echo "sanitizer build failed"; count 0 1; status=1
fi

stage "Lua integration suite (real guests)"
build/supervisor/provium tests/lua --include-slow --json >"$results/lua.json" || status=1
python3 tools/count_results.py provium "$results/lua.json" >>"$results/counts" || status=1

stage "examples"
build/supervisor/provium examples --json >"$results/examples.json" || status=1
python3 tools/count_results.py provium "$results/examples.json" >>"$results/counts" || status=1

stage "known-outcome cases"
python3 tests/integration/run_cases.py | tee "$results/cases.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
read -r p f < <(sed -n 's/^cases: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$results/cases.txt")
count "${p:-0}" "${f:-1}"

read -r passed failed skipped < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$results/counts")
[ "$failed" -eq 0 ] || status=1
echo
if [ "$skipped" -gt 0 ]; then
  echo "tests: $passed passed, $failed failed, $skipped skipped"
else
  echo "tests: $passed passed, $failed failed"
fi
exit $status
