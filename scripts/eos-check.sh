#!/usr/bin/env bash
# Exactly-once against a real Kafka (docs/contract.md#exactly-once): the kill -9 test of
# tests/integration/scale_out_test.cpp with processing.guarantee exactly_once, judged as a
# read_committed consumer sees customer-events. The dev broker cannot judge this (it shows
# aborted records: docs/platform.md#mock-transactions), so CI does not run it; operators do,
# against the compose Kafka or their own:
#
#   BROKERS=localhost:9092 scripts/eos-check.sh
#
# Three `tastesync run --processing-guarantee exactly_once` in one group; `gen` streams COUNT
# sightings at RATE/s; one instance is killed with SIGKILL a third of the way in. Then a fresh
# at-least-once instance processes the same input into a topic of its own. Passes (exit 0) when a
# read_committed reader of the output sees every event_id of the reference exactly once: no
# duplicate, none missing, none extra. Every topic and group is new (named eos-<time>-<pid>-*),
# so it never touches the configuration's own. Needs: build/release/tastesync (built if
# missing), kcat, python3; the broker must allow topic creation (CreateTopics).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
brokers=${BROKERS:?set BROKERS to the Kafka bootstrap servers, e.g. BROKERS=localhost:9092}
count=${COUNT:-60000}
rate=${RATE:-3000}
partitions=${PARTITIONS:-6}
replicas=${REPLICATION_FACTOR:--1}
bin=${TASTESYNC:-$root/build/release/tastesync}
[ -x "$bin" ] || "$root/scripts/build.sh" release
command -v kcat >/dev/null || { echo "eos-check: kcat is missing (apt-get install kcat)" >&2; exit 2; }

run=eos-$(date +%s)-$$
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  echo "eos-check: logs kept in $work" >&2
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Sum of tastesync_consumer_lag_records on one instance's /metrics; empty when it does not answer.
lag_of() {
  python3 - "$1" <<'PY' 2>/dev/null || true
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=2).read().decode()
lags = [float(line.rsplit(" ", 1)[1]) for line in page.splitlines()
        if line.startswith("tastesync_consumer_lag_records{")]
print(int(sum(lags)) if lags else "")
PY
}
# Waits until every port in "$@" reports a lag of 0 twice in a row (10 minutes at most).
wait_caught_up() {
  local zeros=0
  for _ in $(seq 600); do
    local total=0 known=1
    for port in "$@"; do
      local lag
      lag=$(lag_of "$port")
      if [ -z "$lag" ]; then known=0; else total=$((total + lag)); fi
    done
    if [ "$known" = 1 ] && [ "$total" = 0 ]; then
      zeros=$((zeros + 1))
      [ "$zeros" -ge 2 ] && return 0
    else
      zeros=0
    fi
    sleep 1
  done
  echo "eos-check: not caught up after 10 minutes" >&2
  return 1
}
topics() { # GROUP OUTPUT DLQ MODE GUARANTEE
  TASTESYNC_SINK__DLQ_TOPIC="$1-sink-dlq" "$bin" topics create --brokers "$brokers" --group-id "$1" --input-topic "$run-raw-beacons" \
    --output-topic "$2" --dlq-topic "$3" --consumer-mode "$4" --processing-guarantee "$5" \
    --partitions "$partitions" --replication-factor "$replicas"
}
start() { # NAME GROUP OUTPUT DLQ MODE GUARANTEE PORT
  "$bin" run --brokers "$brokers" --group-id "$2" --input-topic "$run-raw-beacons" \
    --output-topic "$3" --dlq-topic "$4" --consumer-mode "$5" --processing-guarantee "$6" \
    --state-dir "$work/state-$1" --metrics-port "$7" >"$work/$1.out" 2>"$work/$1.log" &
  pids+=($!)
}
event_ids() { # TOPIC: one event_id per record, as a read_committed consumer sees them
  kcat -C -b "$brokers" -t "$1" -e -q -X isolation.level=read_committed -f '%h\n' |
    grep -o 'event_id=[^,]*' | cut -d= -f2
}

echo "eos-check: $run on $brokers: $count sightings at $rate/s, 3 instances, one killed" >&2
topics "$run" "$run-events" "$run-dlq" group exactly_once
topics "$run-ref" "$run-ref-events" "$run-ref-dlq" assign at_least_once

ports=()
for name in a b c; do
  port=$(free_port)
  ports+=("$port")
  start "$name" "$run" "$run-events" "$run-dlq" group exactly_once "$port"
done
sleep 15  # every member joined (a real broker's first rebalance takes a few seconds)
"$bin" gen --brokers "$brokers" --topic "$run-raw-beacons" --count "$count" --rate "$rate" \
  --customers 200 --seed 7 --start-time 2025-03-02T12:00:00Z 2>"$work/gen.log" &
gen=$!
pids+=("$gen")
sleep $((count / rate / 3))
kill -9 "${pids[1]}"
echo "eos-check: killed instance b (pid ${pids[1]}) with SIGKILL" >&2
wait "$gen"
wait_caught_up "${ports[0]}" "${ports[2]}"
kill -TERM "${pids[0]}" "${pids[2]}"
wait "${pids[0]}" "${pids[2]}" || true

ref_port=$(free_port)
start ref "$run-ref" "$run-ref-events" "$run-ref-dlq" assign at_least_once "$ref_port"
ref_pid=${pids[-1]}
wait_caught_up "$ref_port"
kill -TERM "$ref_pid"
wait "$ref_pid" || true

event_ids "$run-events" | sort >"$work/events.ids"
event_ids "$run-ref-events" | sort -u >"$work/reference.ids"
total=$(wc -l <"$work/events.ids")
distinct=$(sort -u "$work/events.ids" | wc -l)
reference=$(wc -l <"$work/reference.ids")
missing=$(sort -u "$work/events.ids" | comm -13 - "$work/reference.ids" | wc -l)
extra=$(sort -u "$work/events.ids" | comm -23 - "$work/reference.ids" | wc -l)
duplicates=$((total - distinct))
printf '{"events_read":%d,"distinct":%d,"duplicates":%d,"reference":%d,"missing":%d,"extra":%d}\n' \
  "$total" "$distinct" "$duplicates" "$reference" "$missing" "$extra"
if [ "$reference" -eq 0 ] || [ "$duplicates" -ne 0 ] || [ "$missing" -ne 0 ] || [ "$extra" -ne 0 ]; then
  echo "eos-check: FAILED" >&2
  exit 1
fi
echo "eos-check: passed: every event once, as read_committed sees it" >&2
