#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, builds the sanitized
# test build, runs every test (unit, integration against the mock cluster, schema checks), and
# beside them lints, builds the fuzz targets and runs each briefly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Each fuzz target's time; they run at the lowest priority beside the tests, so with less CPU
# than alone, and the last of them after the tests (docs/design.md#ci-time).
fuzz_seconds=${FUZZ_SECONDS:-60}

"$root/scripts/install-deps.sh"
# The layers first: seconds, and a wrong include fails before a long build (docs/design.md).
"$root/scripts/check_layers.py"
"$root/scripts/build.sh" test

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# clang-tidy and the fuzz targets need no test binary, and the tests leave much of two cores
# idle (they wait on brokers, servers and timeouts): lint, then the fuzz build and runs, go
# beside them at the lowest priority, so the tests keep the CPU whenever they want it
# (docs/design.md#ci-time). Their output is shown once both are done. Two tests at once: three
# shortened the run by ~2 min but the extra contention made two existing tests fail in two of
# three clean-clone runs (timing in librdkafka's group protocol on the mock).
side_log="$root/build/lint-and-fuzz.log"
mkdir -p "$root/build"
(
  nice -n 19 "$root/scripts/lint.sh"
  nice -n 19 "$root/scripts/build.sh" fuzz
  nice -n 19 "$root/scripts/fuzz.sh" "$fuzz_seconds"
) >"$side_log" 2>&1 &
side_pid=$!
# ctest starts the tests it has timings for longest first; a fresh clone has none, so it gets
# those of a CI run (tests/ctest-costs.txt), and the longest no longer start last.
mkdir -p "$root/build/test/Testing/Temporary"
costs="$root/build/test/Testing/Temporary/CTestCostData.txt"
[ -f "$costs" ] || cp "$root/tests/ctest-costs.txt" "$costs"
tests_status=0
(cd "$root/build/test" && ctest --output-on-failure --timeout 600 -j "${TEST_JOBS:-2}") || tests_status=$?
side_status=0
wait "$side_pid" || side_status=$?
cat "$side_log"
if [ "$tests_status" -ne 0 ]; then
  # Last, so that the end of the log says why (scripts/failure_digest.py).
  python3 "$root/scripts/failure_digest.py" "$root/build/test" || true
  exit "$tests_status"
fi
if [ "$side_status" -ne 0 ]; then exit "$side_status"; fi
echo "test.sh: all tests passed"
