#!/usr/bin/env bash
# Resident memory of `tastesync run` fed COUNT sightings from as many invented customer ids
# (valid records of a registered beacon, weak enough that none is identified: every one creates
# state and nothing else), with the customer cap as configured and with it raised out of the way.
# Prints VmRSS at the end and VmHWM (peak) for each; no assertions (docs/design.md, "Bounded
# memory").
#   bench/hostile_memory.sh [BUILD_DIR] [COUNT] [RATE_PER_S]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
count=${2:-1000000}
rate=${3:-40000}
bin="$build/app/tastesync"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The mock keeps 5 MiB a partition: records are produced at a pace the pipeline keeps up with,
# so none is dropped before it is processed (tastesync_records_lost_to_retention_total says).
topics=()
for suffix in capped uncapped; do topics+=(--topic "raw-$suffix" --topic "events-$suffix" --topic "dlq-$suffix"); done
"$bin" dev-broker --partitions 6 --bootstrap-file "$work/bootstrap" "${topics[@]}" \
  >/dev/null 2>"$work/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers=$(sed 's/^bootstrap.servers=//' "$work/bootstrap")

metric() {  # port series
  curl -s "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 == s { print $2 }'
}

run_once() {  # label topic-suffix (the cap comes from the environment)
  local label=$1 suffix=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" run --brokers "$brokers" --consumer-mode assign --group-id "memory-$suffix" \
    --input-topic "raw-$suffix" --output-topic "events-$suffix" --dlq-topic "dlq-$suffix" \
    --state-dir "$work/state-$suffix" --metrics-port "$port" --quiet \
    2>"$work/run-$suffix.log" &
  local pid=$!
  pids+=($pid)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  python3 - "$count" "$rate" <<'PY' | kcat -P -b "$brokers" -t "raw-$suffix" -K '|' -z lz4
import sys, time, datetime
count, rate = int(sys.argv[1]), int(sys.argv[2])
chunk = max(1, rate // 20)
start = time.time()
for first in range(0, count, chunk):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    lines = []
    for i in range(first, min(count, first + chunk)):
        lines.append('inv-%d|{"sighting_id":"s%d","customer_id":"inv-%d","beacon":{"uuid":'
                     '"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":11,"rssi":-97},'
                     '"detected_at":"%s"}' % (i, i, i, now))
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    delay = start + (first + chunk) / rate - time.time()
    if delay > 0:
        time.sleep(delay)
PY
  # Until everything produced is consumed.
  for _ in $(seq 600); do
    consumed=$(metric "$port" tastesync_records_consumed_total)
    [ "${consumed%.*}" -ge "$count" ] 2>/dev/null && break
    sleep 0.5
  done
  sleep 3  # housekeeping (once a second) sweeps what was forgotten
  echo "$label: consumed $(metric "$port" tastesync_records_consumed_total)," \
    "customers in memory $(metric "$port" tastesync_state_customers)," \
    "evicted $(metric "$port" tastesync_state_evicted_customers_total)," \
    "lost to retention $(metric "$port" tastesync_records_lost_to_retention_total);" \
    "$(grep -E 'VmRSS|VmHWM' /proc/$pid/status | tr -s ' \t\n' ' ')"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

export TASTESYNC_STATE__MAX_CUSTOMERS_PER_PARTITION=20000
run_once "cap 20000 a partition (the default)" capped
export TASTESYNC_STATE__MAX_CUSTOMERS_PER_PARTITION=100000000
run_once "cap out of the way (100 000 000)" uncapped
