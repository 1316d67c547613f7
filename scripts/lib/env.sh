# Sourced by the scripts: repository root, .env values and the default service URLs.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -f "$ROOT/.env" ]; then
  # Values already in the environment win over the file.
  while IFS= read -r line; do
    # Split at the first '=' only: base64 keys end in '=' padding that must survive.
    key="${line%%=*}"; value="${line#*=}"
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${!key+x}" ] && continue
    value="${value%\"}"; value="${value#\"}"
    export "$key=$value"
  done < <(grep -E '^[A-Z_][A-Z0-9_]*=' "$ROOT/.env")
fi
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/subscribernest}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

say() { printf '%s\n' "$*" >&2; }
