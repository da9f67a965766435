#!/usr/bin/env bash
# Measures restart after kill -9 -> first event delivered by the new process, in both consumer
# modes, against a dev broker with live traffic. Prints one line per run; no assertions.
#   bench/restart_time.sh [BUILD_DIR] [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
runs=${2:-3}
bin="$build/app/tastesync"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# Group mode keeps a state changelog (state.changelog auto): its topic must exist.
"$bin" dev-broker --partitions 6 --bootstrap-file "$work/bootstrap" --topic raw-beacons \
  --topic customer-events --topic raw-beacons-dlq --topic restart-group-state-changelog \
  >/dev/null 2>"$work/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers=$(sed 's/^bootstrap.servers=//' "$work/bootstrap")
"$bin" gen --brokers "$brokers" --rate 200 --customers 50 2>"$work/gen.log" &
pids+=($!)

now() { date +%s.%N; }
wait_for_lines() {  # file count timeout_s
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.02
  done
}

for mode in ${MODES:-assign group}; do
  state="$work/state-$mode"
  for run in $(seq "$runs"); do
    "$bin" run --brokers "$brokers" --consumer-mode "$mode" --group-id "restart-$mode" \
      --state-dir "$state" --metrics-port 0 --print-events >"$work/before.out" 2>"$work/before.log" &
    pid=$!
    pids+=($pid)
    wait_for_lines "$work/before.out" 5 60 || { echo "$mode run $run: no events before the kill"; exit 1; }
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    start=$(now)
    "$bin" run --brokers "$brokers" --consumer-mode "$mode" --group-id "restart-$mode" \
      --state-dir "$state" --metrics-port 0 --print-events >"$work/after.out" 2>"$work/after.log" &
    pid=$!
    pids+=($pid)
    if wait_for_lines "$work/after.out" 1 120; then
      echo "$mode run $run: restart -> first event $(echo "$(now) - $start" | bc) s"
    else
      echo "$mode run $run: no event within 120 s of the restart"
    fi
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  done
done
