#!/usr/bin/env bash
# The whole suite: formatting, lint, typecheck, build, then every test (unit, integration and
# end-to-end) against real Postgres and Redis, each test file in its own database and queue prefix.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"

bash scripts/install.sh
bash scripts/services.sh

# Two cores: run two turbo tasks at a time, one jest worker each.
export JEST_WORKERS="${JEST_WORKERS:-1}"
npx prettier --check . --log-level warn
npx turbo run lint typecheck build --concurrency=2 --output-logs=errors-only "$@"
# Test output in full: each workspace's jest summary (suites, tests) ends up in the log.
npx turbo run test --concurrency=2 --output-logs=full "$@"
