#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs the pipeline. With no
# brokers configured it runs the embedded default (in-process Kafka, generator, events on stdout).
# Extra arguments go to `tastesync run` (e.g. --brokers host:9092 --registry file.json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" release >&2
exec "$root/build/release/app/tastesync" run "$@"
