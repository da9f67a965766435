#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks need. Idempotent: a
# machine that already has them spends a second on the dpkg query and touches nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev libsimdjson-dev librocksdb-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcli11-dev rapidjson-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libjwt-dev
  libpqxx-dev libhiredis-dev postgresql-15 postgresql-client-15 redis-server redis-tools
  clang-14 libclang-rt-14-dev
  python3 python3-jsonschema python3-yaml kcat gdb
  docker-compose chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# puppeteer-core for the floor view's test in a real Chromium (tests/browser), exactly as locked;
# again only when the lock changed since the last install.
browser=$(cd "$(dirname "$0")/../tests/browser" && pwd)
if ! cmp -s "$browser/package-lock.json" "$browser/node_modules/.installed-lock" 2>/dev/null; then
  command -v npm >/dev/null || { echo "install-deps: npm is missing (Node.js 18 or later)" >&2; exit 1; }
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$browser/package-lock.json" "$browser/node_modules/.installed-lock"
fi
