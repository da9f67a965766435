#!/usr/bin/env bash
# clang-tidy with the repo's .clang-tidy over the product's sources (tests excluded), one unity
# file per target, two at a time (docs/design.md#ci-time). Its WarningsAsErrors checks
# (bugprone-*, clang-analyzer-*, ...) fail the script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/lint"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTASTESYNC_BUILD_BENCH=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=0 >/dev/null
# The generated default registry and protobuf sources must exist for their includes to resolve.
cmake --build "$build" --target tastesync_registry tastesync_proto_sources -j 2 >/dev/null
# A unity file includes the target's sources, so they are "headers" to clang-tidy: the filter
# reports what is in the project's folders (sources and headers alike) and nothing generated.
folders='app|common|config|db|floor|http|kafka|pipeline|registry|replay|rpc|sinks|stages|state|tools'
"$root/scripts/lint_units.py" "$build" | tr ' \n' '\0\0' |
  xargs -0 -n 2 -P "${JOBS:-2}" sh -c \
    'clang-tidy-14 -p "$0" --quiet --header-filter="$1" --checks="$2" "$3" 2>/dev/null' \
    "$build" "^$root/($folders)/" |
  tee "$build/clang-tidy.log" | grep -E "^/.*(warning|error):" | sort -u || true
if grep -q "error:" "$build/clang-tidy.log"; then
  echo "lint.sh: clang-tidy errors (see above)" >&2
  exit 1
fi
echo "lint.sh: clean"
