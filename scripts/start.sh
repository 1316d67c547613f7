#!/usr/bin/env bash
# One command from a fresh clone to a running platform: installs dependencies, writes .env with
# fresh keys if there is none, makes Postgres and Redis reachable, builds, migrates, starts the
# api, the worker and the fake ESP, waits until all are healthy and runs the demo. Ctrl-C stops
# everything.
#   --check   start, verify, run the demo, then stop (exit status says whether all was well)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
CHECK=0; [ "${1:-}" = "--check" ] && CHECK=1

bash scripts/install.sh

if [ ! -f .env ]; then
  say "start: writing .env from .env.example with fresh encryption keys"
  node -e '
    const fs = require("fs"), { randomBytes } = require("crypto");
    const key = () => randomBytes(32).toString("base64");
    fs.writeFileSync(".env", fs.readFileSync(".env.example", "utf8")
      .replace(/^ENCRYPTION_KEY=$/m, `ENCRYPTION_KEY=k1:${key()}`)
      .replace(/^HMAC_KEY=$/m, `HMAC_KEY=${key()}`), { mode: 0o600 });'
  source scripts/lib/env.sh
fi

bash scripts/services.sh
say "start: building"
npx turbo run build --output-logs=errors-only >/dev/null
say "start: applying migrations"
npm run --silent migration:run >/dev/null

PORT="${PORT:-4000}"; OPS_PORT="${OPS_PORT:-4100}"; FAKE_ESP_PORT="${FAKE_ESP_PORT:-4200}"
export PORT OPS_PORT
mkdir -p var/log
pids=()
stop_all() {
  [ "${#pids[@]}" -gt 0 ] || return 0
  say "start: stopping the api, the worker$([ "${USE_REAL_ESPS:-0}" = 1 ] || echo ' and the fake ESP')"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Locally the services talk to the fake ESP (beehiiv, Kit and Mailchimp on one port) unless
# USE_REAL_ESPS=1, in which case the *_API_URL values from the environment or .env apply.
if [ "${USE_REAL_ESPS:-0}" != 1 ]; then
  node packages/testkit/dist/fake-esp/cli.js --port "$FAKE_ESP_PORT" --rate-limits documented \
    >var/log/fake-esp.log 2>&1 &
  pids+=($!)
  export BEEHIIV_API_URL="http://127.0.0.1:$FAKE_ESP_PORT/beehiiv/v2"
  export KIT_API_URL="http://127.0.0.1:$FAKE_ESP_PORT/kit/v4"
  export MAILCHIMP_API_URL="http://127.0.0.1:$FAKE_ESP_PORT/mailchimp/{dc}/3.0"
fi

(cd apps/api && exec node dist/main.js) >var/log/api.log 2>&1 & pids+=($!)
# The worker's heap is capped as the compose file caps it (WORKER_NODE_OPTIONS, README "Compose").
(cd apps/worker && NODE_OPTIONS="${WORKER_NODE_OPTIONS:---max-old-space-size=256}" exec node dist/main.js) \
  >var/log/worker.log 2>&1 & pids+=($!)

wait_healthy() {
  for _ in $(seq 1 60); do
    curl -fsS "${@:3}" "$2" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  say "start: $1 did not become healthy at $2; last log lines (var/log/$1.log):"
  tail -n 20 "var/log/$1.log" >&2
  return 1
}
wait_healthy api "http://127.0.0.1:$PORT/health"
wait_healthy worker "http://127.0.0.1:$OPS_PORT/health"
if [ "${USE_REAL_ESPS:-0}" != 1 ]; then
  # The fake has no health route; Mailchimp's /ping (with the demo key) says it is up.
  wait_healthy fake-esp "http://127.0.0.1:$FAKE_ESP_PORT/mailchimp/us1/3.0/ping" -u demo:demo-mailchimp-key-us1 ||
    { say "start: is port $FAKE_ESP_PORT free? (FAKE_ESP_PORT=... to use another)"; exit 1; }
fi

API_URL="http://127.0.0.1:$PORT" OPS_URL="http://127.0.0.1:$OPS_PORT" bash scripts/demo.sh

if [ "$CHECK" = 1 ]; then exit 0; fi
say "start: running; logs in var/log/{api,worker,fake-esp}.log. Ctrl-C stops everything."
wait "${pids[@]}"
