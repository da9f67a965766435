#!/usr/bin/env bash
# Runs every libFuzzer target of build/fuzz for N seconds each (default 30), starting from the
# seed corpus in tests/fuzz/corpus/<target>. A crash fails the script and leaves the input in
# build/fuzz/findings/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
findings="$root/build/fuzz/findings"
mkdir -p "$findings"
shopt -s nullglob
targets=("$root"/build/fuzz/tests/fuzz/*_fuzz)
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets built (run scripts/build.sh fuzz)" >&2
  exit 1
fi
# One target's run; its log is printed when it ends.
fuzz_one() {
  local target=$1 name corpus status=0
  name=$(basename "$target" _fuzz)
  corpus=$(mktemp -d)
  if [ -d "$root/tests/fuzz/corpus/$name" ]; then cp -r "$root/tests/fuzz/corpus/$name/." "$corpus/"; fi
  (cd "$findings" && "$target" -max_total_time="$seconds" -print_final_stats=1 "$corpus" \
    >"$findings/$name.log" 2>&1) || status=$?
  echo "fuzz.sh: $name for ${seconds}s"
  tail -n 12 "$findings/$name.log"
  rm -rf "$corpus"
  if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $name found a failure; see $findings" >&2
    return 1
  fi
}
# Two at a time, one per core: each target is single-threaded.
failed=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  for target in "${targets[@]:i:2}"; do
    fuzz_one "$target" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
done
exit "$failed"
