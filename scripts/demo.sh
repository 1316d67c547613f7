#!/usr/bin/env bash
# A short demo against running services (started by `npm start`): shows both services healthy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
API_URL="${API_URL:-http://127.0.0.1:${PORT:-4000}}"
OPS_URL="${OPS_URL:-http://127.0.0.1:${OPS_PORT:-4100}}"

show() {
  local body
  body="$(curl -sS "$2")" || { say "demo: $1 is not answering at $2 (is it running? npm start)"; exit 1; }
  printf '%-7s %s -> %s\n' "$1" "$2" "$body"
  [[ "$body" == *'"status":"ok"'* ]]
}
show api "$API_URL/health"
show worker "$OPS_URL/health"
printf 'metrics: %s/metrics (api), %s/metrics (worker)\n' "$API_URL" "$OPS_URL"
