#!/usr/bin/env bash
# Configures and builds one flavour of the project into build/<flavour>:
#   release  optimised, for running and for bench/
#   test     ASan + UBSan, for the test suite
#   fuzz     clang-14 + libFuzzer, only the fuzz targets
set -euo pipefail
flavour=${1:-release}
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
build="$root/build/$flavour"

case "$flavour" in
  release)
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTASTESYNC_BUILD_TESTS=OFF >/dev/null
    ;;
  test)
    # A unity build: each target's sources compiled as one, which halves the CPU of this build
    # (docs/design.md#ci-time). TASTESYNC_UNITY=OFF compiles file by file, for quick
    # rebuilds while editing a test.
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTASTESYNC_SANITIZE=ON \
      -DTASTESYNC_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD="${TASTESYNC_UNITY:-ON}" \
      -DCMAKE_UNITY_BUILD_BATCH_SIZE=0 >/dev/null
    ;;
  fuzz)
    CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DTASTESYNC_FUZZ=ON -DTASTESYNC_BUILD_TESTS=OFF -DTASTESYNC_BUILD_BENCH=OFF >/dev/null
    ;;
  *)
    echo "usage: $0 [release|test|fuzz]" >&2
    exit 2
    ;;
esac
cmake --build "$build" -j "$jobs"
