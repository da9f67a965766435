#!/usr/bin/env bash
# The first review's two probes, from outside, against a release binary (docs/design.md, "Time
# that cannot be hijacked", "Dead letters that always fit"):
#   1. twenty sightings stamped 2099 (record timestamp and detected_at, `gen --start-time`), then
#      300 normal ones: how many normal ones are identified, dropped as beyond_lateness, or dead
#      letters;
#   2. one record with a 1 MiB key: does the pipeline keep running, and what reaches the DLQ.
# Prints what it saw; no assertions.
#   bench/hostile_probe.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
bin="$build/app/tastesync"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin" dev-broker --partitions 6 --bootstrap-file "$work/bootstrap" >/dev/null 2>"$work/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers=$(sed 's/^bootstrap.servers=//' "$work/bootstrap")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metric() { curl -s "http://127.0.0.1:$port/metrics" | awk -v s="$1" '$1 == s { print $2 }'; }

"$bin" run --brokers "$brokers" --consumer-mode assign --state-dir "$work/state" \
  --metrics-port "$port" --quiet 2>"$work/run.log" &
pid=$!
pids+=($pid)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done

"$bin" gen --brokers "$brokers" --count 20 --customers 5 --rate 0 --bad-ratio 0 --seed 1 \
  --start-time 2099-01-01T00:00:00Z 2>/dev/null
start=$(date -u -d '-2 min' +%Y-%m-%dT%H:%M:%SZ)
"$bin" gen --brokers "$brokers" --count 300 --customers 20 --rate 0 --bad-ratio 0 --seed 2 \
  --start-time "$start" 2>/dev/null
sleep 5
echo "probe 1 (20 records of 2099, then 300 normal): consumed $(metric tastesync_records_consumed_total)," \
  "events delivered $(metric tastesync_events_delivered_total)," \
  "beyond_lateness $(metric 'tastesync_drops_total{reason="beyond_lateness"}')," \
  "dead letters too_far_in_future $(metric 'tastesync_dlq_total{code="too_far_in_future"}')"

python3 -c 'print("k" * 1048576 + "|{}")' |
  kcat -P -b "$brokers" -t raw-beacons -K '|' -X message.max.bytes=10000000 2>/dev/null
sleep 5
if kill -0 "$pid" 2>/dev/null; then state="still running"; else
  wait "$pid" && code=0 || code=$?
  state="exited $code"
fi
echo "probe 2 (a 1 MiB key): the pipeline $state;" \
  "last log line: $(tail -n 1 "$work/run.log" | cut -c1-160)"
dlq=$(kcat -C -b "$brokers" -t raw-beacons-dlq -e -q -f '%k\t%h\n' 2>/dev/null | awk -F'\t' '
  length($1) > 1000 { print "key " length($1) " bytes; headers " $2 }' | head -n 1 | cut -c1-400)
echo "  its dead letter: ${dlq:-none}"
