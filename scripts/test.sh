#!/usr/bin/env bash
# The README's second command, and what CI runs: installs what is missing, builds the sanitized
# test build, runs every test (unit, integration against the mock cluster, schema checks), then
# builds the fuzz targets and runs each briefly.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_seconds=${FUZZ_SECONDS:-30}

"$root/scripts/install-deps.sh"
# The layers first: seconds, and a wrong include fails before a long build (docs/design.md).
"$root/scripts/check_layers.py"
"$root/scripts/build.sh" test

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd "$root/build/test" && ctest --output-on-failure --timeout 600 -j 2)

"$root/scripts/lint.sh"
"$root/scripts/build.sh" fuzz
"$root/scripts/fuzz.sh" "$fuzz_seconds"
echo "test.sh: all tests passed"
