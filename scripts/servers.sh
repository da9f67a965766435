#!/usr/bin/env bash
# Starts (or stops) a private PostgreSQL 15 and Redis on loopback for local runs and CI, as root
# on a machine without systemd. Idempotent: `start` on a running pair does nothing.
#
#   scripts/servers.sh start|stop|status|env
#
# TASTESYNC_SERVERS_DIR (default /tmp/tastesync-servers), TASTESYNC_PG_PORT (55432) and
# TASTESYNC_REDIS_PORT (56379) choose where; `env` prints the DSN and address to export.
set -euo pipefail

dir="${TASTESYNC_SERVERS_DIR:-/tmp/tastesync-servers}"
pg_port="${TASTESYNC_PG_PORT:-55432}"
redis_port="${TASTESYNC_REDIS_PORT:-56379}"
pg_bin=/usr/lib/postgresql/15/bin

# PostgreSQL refuses to run as root; run it as the `postgres` user the package creates.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; }
redis_running() { redis-cli -p "$redis_port" ping >/dev/null 2>&1; }

start() {
  mkdir -p "$dir/pg" "$dir/redis"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir/pg"; fi
  if ! pg_running; then
    if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
      as_pg "$pg_bin/initdb" -D "$dir/pg/data" -A trust -U tastesync -E UTF8 >"$dir/pg/initdb.log"
    fi
    as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w \
      -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1" start >/dev/null
    as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U tastesync tastesync 2>/dev/null || true
  fi
  if ! redis_running; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$dir/redis" \
      --save "" --appendonly yes --appendfsync always --logfile "$dir/redis/log"
    for _ in $(seq 50); do redis_running && break; sleep 0.1; done
  fi
  status
}

stop() {
  if pg_running; then as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -m fast stop >/dev/null; fi
  if redis_running; then redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true; fi
}

status() {
  pg_running && echo "postgresql: running on 127.0.0.1:$pg_port" || echo "postgresql: stopped"
  redis_running && echo "redis: running on 127.0.0.1:$redis_port" || echo "redis: stopped"
}

env_lines() {
  echo "export TASTESYNC_POSTGRES__DSN=postgresql://tastesync@127.0.0.1:$pg_port/tastesync"
  echo "export TASTESYNC_REDIS__ADDRESS=127.0.0.1:$redis_port"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) env_lines ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
