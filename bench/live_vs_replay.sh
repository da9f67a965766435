#!/usr/bin/env bash
# Issue 15's figures in one run, against a dev broker in its own process (as a new user runs it):
# the live pipeline with processing.guarantee at_least_once and exactly_once, and
# `tastesync replay --from-beginning` (producing, then --dry-run), over the same pre-loaded
# sightings. Each live run is timed from its first record consumed to its last
# (tastesync_records_consumed_total, polled every 20 ms); replay reports its own rate in its JSON
# summary. Prints one line per measurement; no assertions.
#   bench/live_vs_replay.sh [BUILD_DIR] [SIGHTINGS] [PARTITIONS] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
sightings=${2:-200000}
partitions=${3:-24}
rounds=${4:-3}
bin="$build/app/tastesync"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin" dev-broker --partitions "$partitions" --bootstrap-file "$work/bootstrap" \
  >/dev/null 2>"$work/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers=$(sed 's/^bootstrap.servers=//' "$work/bootstrap")
"$bin" gen --brokers "$brokers" --count "$sightings" --rate 0 --customers 2000 --seed 7 \
  --start-time 2025-03-02T12:00:00Z 2>"$work/gen.log"
echo "$sightings sightings in $partitions partitions ($(tail -1 "$work/gen.log" | sed 's/.*gen: //'))"
# What the broker still holds (the mock keeps 5 MiB per partition: docs/platform.md#mock-retention).
held=$("$bin" replay --brokers "$brokers" --group-id held --from-beginning --output-topic held \
  --dry-run 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["records_read"])')
echo "$held of them held by the broker"

counter() {  # port metric: its value, or empty
  python3 - "$1" "$2" <<'PY' 2>/dev/null || true
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=1).read().decode()
for line in page.splitlines():
    if line.startswith(sys.argv[2] + " "):
        print(int(float(line.split()[1])))
PY
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

live() {  # guarantee round
  local port group first="" last="" count
  port=$(free_port)
  group="live-$1-$2"
  "$bin" topics create --brokers "$brokers" --group-id "$group" --output-topic "out-$group" \
    --dlq-topic "dlq-$group" --consumer-mode assign --processing-guarantee "$1" >/dev/null 2>&1
  "$bin" run --brokers "$brokers" --group-id "$group" --consumer-mode assign \
    --processing-guarantee "$1" --output-topic "out-$group" --dlq-topic "dlq-$group" \
    --state-dir "$work/state-$group" --metrics-port "$port" >/dev/null 2>"$work/$group.log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 3000); do  # at least 60 s
    count=$(counter "$port" tastesync_records_consumed_total)
    if [ -n "$count" ] && [ "$count" -gt 0 ] && [ -z "$first" ]; then first=$(date +%s.%N); fi
    if [ -n "$count" ] && [ "$count" -ge "$held" ]; then last=$(date +%s.%N); break; fi
    sleep 0.02
  done
  local commits="" commit_s=""
  if [ "$1" = exactly_once ]; then
    sleep 0.3  # the last transaction commits
    commits=$(counter "$port" tastesync_transaction_commit_seconds_count)
    commit_s=$(python3 - "$port" <<'PY' 2>/dev/null || true
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=1).read().decode()
print(next(l.split()[1] for l in page.splitlines() if l.startswith("tastesync_transaction_commit_seconds_sum ")))
PY
)
  fi
  kill -TERM "$pid"
  wait "$pid" || true
  if [ -z "$last" ]; then echo "  live $1 round $2: did not consume every record"; return; fi
  python3 -c "import sys; d=float(sys.argv[2])-float(sys.argv[1]); c=f'; {sys.argv[6]} transactions, {1000*float(sys.argv[7])/int(sys.argv[6]):.1f} ms per commit on average' if sys.argv[6] else ''; print(f'  live {sys.argv[3]:13} round {sys.argv[4]}: {int(sys.argv[5])/d:9.0f} sightings/s ({d:.2f} s){c}')" \
    "$first" "$last" "$1" "$2" "$held" "$commits" "$commit_s"
}

replay() {  # round [--dry-run]
  local summary
  summary=$("$bin" replay --brokers "$brokers" --group-id "replay-$1" --from-beginning \
    --output-topic "replayed-$1${2:+-dry}" ${2:+"$2"} 2>"$work/replay-$1.log")
  python3 -c "import json,sys; s=json.loads(sys.argv[1]); print(f'  replay{sys.argv[3]:12} round {sys.argv[2]}: {s[\"records_per_s\"]:9.0f} records/s ({s[\"records_read\"]} read, {s[\"events\"]} events)')" \
    "$summary" "$1" "${2:+ --dry-run}"
}

for round in $(seq "$rounds"); do
  live at_least_once "$round"
  live exactly_once "$round"
  replay "$round"
  replay "$round" --dry-run
done
