#!/usr/bin/env bash
# IdentifyCustomer's latency (issue 16), as an app sees it: a dev broker in its own process,
# `tastesync run` with gRPC on and RS256 tokens required, optionally a background stream of
# sightings from `tastesync gen`, and tastesync_grpc_bench calling at a fixed rate, each call a
# new customer at Table 3. Prints the bench's JSON line and the pipeline's own latency
# quantiles; no assertions.
#   bench/grpc_latency.sh [BUILD_DIR] [CALLS_PER_S] [SECONDS] [BACKGROUND_SIGHTINGS_PER_S]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
rate=${2:-200}
seconds=${3:-30}
load=${4:-0}
bin="$build/app/tastesync"
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

"$bin" dev-broker --partitions 6 --bootstrap-file "$work/bootstrap" >/dev/null 2>"$work/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
brokers=$(sed 's/^bootstrap.servers=//' "$work/bootstrap")

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/issuer.key" 2>/dev/null
openssl pkey -in "$work/issuer.key" -pubout -out "$work/issuer.pem"
grpc_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TASTESYNC_GRPC__JWT_PUBLIC_KEY_FILE="$work/issuer.pem" \
TASTESYNC_GRPC__JWT_ISSUER=https://auth.tastesync.test \
TASTESYNC_GRPC__JWT_AUDIENCE=tastesync-customer-id \
  "$bin" run --brokers "$brokers" --consumer-mode assign --registry "$root/tests/fixtures/registry.json" \
  --state-dir "$work/state" --grpc-port "$grpc_port" --metrics-port "$metrics_port" \
  >/dev/null 2>"$work/run.log" &
pids+=($!)
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
if [ "$load" -gt 0 ]; then
  "$bin" gen --brokers "$brokers" --rate "$load" --count -1 --customers 2000 --seed 7 \
    --registry "$root/tests/fixtures/registry.json" --bad-ratio 0 2>"$work/gen.log" &
  pids+=($!)
  sleep 3
fi
echo "calls: $rate/s for ${seconds} s; background sightings: $load/s; 6 partitions"
"$build/bench/tastesync_grpc_bench" --target "127.0.0.1:$grpc_port" \
  --private-key "$work/issuer.key" --rate "$rate" --seconds "$seconds" --prefix "b$$"
curl -s "http://127.0.0.1:$metrics_port/metrics" |
  grep -E '^tastesync_grpc_calls_total' || true
