#!/usr/bin/env bash
# clang-tidy with the repo's .clang-tidy over the product's sources (tests excluded), two at a
# time. Its WarningsAsErrors checks (bugprone-*, clang-analyzer-*, ...) fail the script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/lint"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTASTESYNC_BUILD_BENCH=OFF \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
# The generated default registry and protobuf sources must exist for their includes to resolve.
cmake --build "$build" --target tastesync_registry tastesync_proto_sources -j 2 >/dev/null
cd "$root"
find app common config db floor http kafka pipeline registry replay rpc sinks stages state tools -name '*.cpp' ! -name '*_test.cpp' -print0 |
  xargs -0 -n 1 -P "${JOBS:-2}" clang-tidy-14 -p "$build" --quiet 2>/dev/null |
  tee "$build/clang-tidy.log" | grep -E "^/.*(warning|error):" || true
if grep -q "error:" "$build/clang-tidy.log"; then
  echo "lint.sh: clang-tidy errors (see above)" >&2
  exit 1
fi
echo "lint.sh: clean"
