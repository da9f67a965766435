#!/usr/bin/env bash
# Validates REAL output against schemas/: a dev broker, `tastesync gen` plus a few hand-written
# sightings (so every identification kind and both sources appear), the pipeline until it has
# consumed everything and drained on SIGTERM, then kcat dumps of customer-events and raw-beacons
# checked by validate.py.
#   check_schemas.sh TASTESYNC_BINARY SCHEMAS_DIR FIXTURES_DIR
set -euo pipefail

binary=$1
schemas=$2
fixtures=$3
here=$(cd "$(dirname "$0")" && pwd)
generated=3000

work=$(mktemp -d "${TMPDIR:-/tmp}/tastesync-schema-XXXXXX")
broker_pid=""
pipeline_pid=""
cleanup() {
  local status=$?
  # Only the processes this script started, by pid.
  [[ -n $pipeline_pid ]] && kill -KILL "$pipeline_pid" 2>/dev/null || true
  [[ -n $broker_pid ]] && kill -TERM "$broker_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [[ $status -ne 0 ]]; then
    for log in "$work"/*.err; do
      [[ -f $log ]] && { echo "---- $log"; tail -n 30 "$log"; }
    done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "check_schemas: $*" >&2
  exit 1
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

"$binary" dev-broker --bootstrap-file "$work/bootstrap" >"$work/broker.out" 2>"$work/broker.err" &
broker_pid=$!
wait_for 60 test -s "$work/bootstrap" || fail "dev-broker wrote no bootstrap file"
brokers=$(sed -n 's/^bootstrap.servers=//p' "$work/bootstrap")

"$binary" gen --brokers "$brokers" --start-time 2025-03-02T12:00:00Z --seed 11 \
  --count "$generated" --rate 0 --bad-ratio 0 2>"$work/gen.err" || fail "gen failed"

# gen's first seconds hold arrivals only: add a move, a still_here and a QR arrival. kcat stamps
# records with the wall clock, so these sightings are dated just before now.
now=$(date -u +%s)
at() { date -u -d "@$((now - 120 + $1))" +%Y-%m-%dT%H:%M:%S.000Z; }
beacon() { # sighting_id minor detected_at
  printf 'schema-cust|{"sighting_id":"%s","customer_id":"schema-cust","source":"beacon","beacon":{"uuid":"550e8400-e29b-41d4-a716-446655440000","major":100,"minor":%s,"rssi":-50,"tx_power":-59},"detected_at":"%s","device":{"platform":"android"}}\n' "$1" "$2" "$3"
}
{
  beacon schema-1 13 "$(at 0)"   # arrival at Table 3
  beacon schema-2a 14 "$(at 10)" # Table 4 from here on: a move once it holds 4 s and 5 readings
  beacon schema-2b 14 "$(at 11)"
  beacon schema-2c 14 "$(at 12)"
  beacon schema-2d 14 "$(at 13)"
  beacon schema-2 14 "$(at 14)"
  beacon schema-3 14 "$(at 75)"  # still at Table 4 a minute after the move
  printf 'schema-qr|{"sighting_id":"schema-qr-1","customer_id":"schema-qr","source":"qr","qr":{"code":"TS-store100-T2"},"detected_at":"%s"}\n' "$(at 5)"
} >"$work/scenario.txt"
kcat -P -b "$brokers" -t raw-beacons -K '|' -X partitioner=murmur2_random <"$work/scenario.txt" ||
  fail "kcat could not produce the scenario"
expected=$((generated + $(wc -l <"$work/scenario.txt")))

"$binary" run --brokers "$brokers" --state-dir "$work/state" --group-id schema-check \
  --consumer-mode assign --registry "$fixtures/registry.json" --metrics-port 0 \
  >"$work/pipeline.out" 2>"$work/pipeline.err" &
pipeline_pid=$!
metrics_port() { sed -n 's/.*metrics on http:\/\/[^:]*:\([0-9]*\)\/metrics.*/\1/p' "$work/pipeline.err"; }
has_metrics_port() { [[ -n $(metrics_port) ]]; }
wait_for 60 has_metrics_port || fail "the pipeline did not log its metrics port"
port=$(metrics_port)
consumed() {
  local value
  value=$(curl -sf "http://127.0.0.1:$port/metrics" |
    sed -n 's/^tastesync_records_consumed_total \([0-9.e+]*\)$/\1/p')
  [[ -n $value ]] && (($(printf '%.0f' "$value") >= expected))
}
wait_for 180 consumed || fail "the pipeline did not consume $expected records"
kill -TERM "$pipeline_pid"
status=0
wait "$pipeline_pid" || status=$?
pipeline_pid=""
((status == 0)) || fail "the pipeline exited $status after SIGTERM, not 0"

kcat -C -b "$brokers" -t customer-events -o beginning -e -q -J >"$work/events.jsonl"
kcat -C -b "$brokers" -t raw-beacons -o beginning -e -q -J >"$work/sightings.jsonl"
/usr/bin/python3 "$here/validate.py" output --schemas "$schemas" \
  --events "$work/events.jsonl" --sightings "$work/sightings.jsonl" \
  --expect-kinds arrival,move,still_here --expect-sources beacon,qr
