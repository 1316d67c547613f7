#!/usr/bin/env bash
# A short demo against running services (started by `npm start`): both services healthy, the
# ESP clients pulling every demo list from the local fake ESP, then the api as an owner uses it:
# sign in with the emailed code, connect the fake beehiiv publication, count, request a sync.
# USE_REAL_ESPS=1: no fake ESP; the owner story connects the real ESP account given by
# DEMO_ESP_TYPE (beehiiv, kit or mailchimp), DEMO_ESP_API_KEY and DEMO_PUBLICATION_ID, if any.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"
API_URL="${API_URL:-http://127.0.0.1:${PORT:-4000}}"
OPS_URL="${OPS_URL:-http://127.0.0.1:${OPS_PORT:-4100}}"
FAKE_ESP_URL="${FAKE_ESP_URL:-http://127.0.0.1:${FAKE_ESP_PORT:-4200}}"

show() {
  local body
  body="$(curl -sS "$2")" || { say "demo: $1 is not answering at $2 (is it running? npm start)"; exit 1; }
  printf '%-7s %s -> %s\n' "$1" "$2" "$body"
  [[ "$body" == *'"status":"ok"'* ]]
}
echo "== health"
show api "$API_URL/health"
show worker "$OPS_URL/health"

if [ "${USE_REAL_ESPS:-0}" = 1 ]; then
  # Real ESPs: no demo lists to pull. The owner story below connects one only when given a key
  # (DEMO_ESP_TYPE, DEMO_ESP_API_KEY, DEMO_PUBLICATION_ID).
  echo "== USE_REAL_ESPS=1: the services talk to the real ESPs; the fake ESP demo is skipped"
else
  echo "== ESP clients against the fake ESP at $FAKE_ESP_URL"
  FAKE_ESP_URL="$FAKE_ESP_URL" node scripts/lib/demo-esp.js
fi

echo "== the api as a newsletter owner uses it"
API_URL="$API_URL" MAIL_DIR="${MAIL_DIR:-$ROOT/apps/worker/${EMAIL_OUTBOX_DIR:-var/mail}}" \
  node scripts/lib/demo-api.js
