#!/usr/bin/env bash
# Checks Node and installs the locked dependencies when node_modules is missing or older than
# package-lock.json. Quiet when there is nothing to do.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/env.sh"
cd "$ROOT"

if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  say "install: Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none))."
  say "         Install it from https://nodejs.org or with your package manager, then run again."
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "install: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
