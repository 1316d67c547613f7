#!/usr/bin/env bash
# Makes Postgres and Redis reachable at DATABASE_URL and REDIS_URL (from the environment, then
# .env, then the local defaults). Uses running servers; otherwise starts installed ones; otherwise,
# as root on Debian/Ubuntu, installs postgresql and redis-server with apt-get and starts them;
# otherwise says exactly what to run. Creates the database if it is missing. Idempotent, and
# silent when all is well.
#
# Also, when `promtool` is missing and apt-get is usable as root, installs Debian's `prometheus`
# package (promtool + prometheus, for the tests of ops/prometheus). Optional: if it cannot be
# installed, one line says so and the Prometheus tests skip; this never fails the script.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"

# host port dbname from a URL like scheme://user:pass@host:port/db
url_host() { local h="${1#*://}"; h="${h#*@}"; h="${h%%/*}"; h="${h%%\?*}"; echo "${h%:*}"; }
url_port() { local h="${1#*://}"; h="${h#*@}"; h="${h%%/*}"; h="${h%%\?*}"; [[ "$h" == *:* ]] && echo "${h##*:}" || echo "$2"; }
url_db() { local p="${1#*://}"; p="${p#*/}"; p="${p%%\?*}"; echo "$p"; }

reachable() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
wait_reachable() {
  for _ in $(seq 1 60); do reachable "$1" "$2" && return 0; sleep 0.5; done
  return 1
}
is_local() { [[ "$1" == 127.0.0.1 || "$1" == localhost || "$1" == ::1 ]]; }
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_install() {
  say "services: installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }
}

PG_HOST="$(url_host "$DATABASE_URL")"; PG_PORT="$(url_port "$DATABASE_URL" 5432)"
PG_DB="$(url_db "$DATABASE_URL")"
REDIS_HOST="$(url_host "$REDIS_URL")"; REDIS_PORT="$(url_port "$REDIS_URL" 6379)"

manual_help() {
  cat >&2 <<HELP
services: $1 is not reachable and could not be started from here. Start it yourself, e.g.:
  docker compose up -d postgres redis
or on Debian/Ubuntu (as root):
  apt-get install -y postgresql redis-server
  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start
  redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --appendonly yes
then set DATABASE_URL / REDIS_URL in .env if they differ from
  DATABASE_URL=$DATABASE_URL
  REDIS_URL=$REDIS_URL
HELP
  exit 1
}

start_postgres() {
  # Debian's clusters: start every one that is down (the one on our port among them).
  if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
    pg_lsclusters -h | while read -r version cluster _rest; do
      pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >/dev/null 2>&1 || true
    done
    return 0
  fi
  command -v service >/dev/null 2>&1 && service postgresql start >/dev/null 2>&1 && return 0
  return 1
}

# A fresh Debian cluster asks for passwords on TCP; the local development URL has none, so let
# loopback connections in (this only ever runs on a cluster this script just installed).
trust_loopback() {
  local hba
  hba="$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -n 1)"
  [ -n "$hba" ] || return 0
  sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  pg_lsclusters -h | while read -r version cluster _rest; do
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload >/dev/null 2>&1 || true
  done
}

ensure_postgres() {
  reachable "$PG_HOST" "$PG_PORT" && return 0
  is_local "$PG_HOST" || manual_help "Postgres at $PG_HOST:$PG_PORT"
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1; then
    can_apt || manual_help "Postgres at $PG_HOST:$PG_PORT"
    apt_install postgresql
    start_postgres || true
    wait_reachable "$PG_HOST" "$PG_PORT" && trust_loopback
  else
    say "services: starting Postgres"
    start_postgres || true
  fi
  wait_reachable "$PG_HOST" "$PG_PORT" || manual_help "Postgres at $PG_HOST:$PG_PORT"
}

ensure_redis() {
  reachable "$REDIS_HOST" "$REDIS_PORT" && return 0
  is_local "$REDIS_HOST" || manual_help "Redis at $REDIS_HOST:$REDIS_PORT"
  if ! command -v redis-server >/dev/null 2>&1; then
    can_apt || manual_help "Redis at $REDIS_HOST:$REDIS_PORT"
    apt_install redis-server
  fi
  say "services: starting Redis on port $REDIS_PORT (append-only file in var/redis)"
  mkdir -p "$ROOT/var/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --appendonly yes \
    --dir "$ROOT/var/redis" --logfile "$ROOT/var/redis/redis.log" >/dev/null
  wait_reachable "$REDIS_HOST" "$REDIS_PORT" || manual_help "Redis at $REDIS_HOST:$REDIS_PORT"
}

ensure_database() {
  [ -n "$PG_DB" ] || return 0
  if [ -d "$ROOT/node_modules/pg" ]; then
    (cd "$ROOT" && node scripts/lib/ensure-database.js "$DATABASE_URL")
  elif command -v psql >/dev/null 2>&1; then
    local admin="${DATABASE_URL%/*}/postgres"
    if [ -z "$(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
      psql "$admin" -qc "CREATE DATABASE \"$PG_DB\"" && say "services: created database $PG_DB"
    fi
  else
    say "services: cannot create database $PG_DB (run npm ci first, or install psql)"; exit 1
  fi
}

# Optional: the tests that need promtool/prometheus skip (saying what to install) without them.
ensure_prometheus() {
  command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 && return 0
  if ! can_apt; then
    say "services: promtool/prometheus not installed; the Prometheus tests will skip" \
      "(install with: apt-get install prometheus)"
    return 0
  fi
  # No recommends: prometheus-node-exporter is not needed. The package's service is not used.
  apt_install --no-install-recommends prometheus ||
    say "services: could not install prometheus with apt-get; the Prometheus tests will skip"
}

ensure_postgres
ensure_redis
ensure_database
ensure_prometheus
