#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the benchmarks need. Idempotent: a
# machine that already has them spends a second on the dpkg query and touches nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev libsimdjson-dev librocksdb-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libcli11-dev rapidjson-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpqxx-dev libhiredis-dev postgresql-15 postgresql-client-15 redis-server redis-tools
  clang-14 libclang-rt-14-dev
  python3 python3-jsonschema python3-yaml kcat
  docker-compose
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
