# Shared by scripts/test.sh and scripts/local.sh. Source it from the repository root.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

step() { printf '\n==> %s\n' "$*"; }

# The project's Python tools in .venv, reinstalled only when scripts/requirements.txt changes.
ensure_venv() {
  local stamp="$VENV/.requirements-$(sha256sum "$REPO/scripts/requirements.txt" | cut -c1-16)"
  if [[ -f "$stamp" ]]; then return 0; fi
  step "Python tools into .venv (moto, cargo-lambda, cfn-lint, SAM CLI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REPO/scripts/requirements.txt"
  rm -f "$VENV"/.requirements-*
  touch "$stamp"
}

# The frontend, built into frontend/build.
build_frontend() {
  step "frontend: npm ci and build"
  (cd "$REPO/frontend" && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something answers on 127.0.0.1:$1 (at most $2 seconds); gives up at once if the
# process $3 (when given) has exited.
wait_for_port() {
  local port="$1" seconds="${2:-60}" pid="${3:-}"
  for _ in $(seq 1 $((seconds * 10))); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      echo "the process meant to listen on port $port exited" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "nothing answered on port $port within ${seconds}s" >&2
  return 1
}
