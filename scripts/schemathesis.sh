#!/usr/bin/env bash
# Property-based tests of the HTTP API against its description, shared/openapi.yaml: schemathesis
# (pinned in scripts/requirements.txt) generates requests from the document, valid and invalid,
# and checks every answer against it with every check it has (statuses, content types, headers,
# response schemas, invalid data refused, valid data accepted, authentication not ignored, a
# deleted note gone...). `make test` runs it after the Rust tests; alone:
#
#   bash scripts/schemathesis.sh               # its own local stack on free ports
#   bash scripts/schemathesis.sh http://127.0.0.1:3000   # a running one (make local)
#
# Without a URL it builds and starts target/debug/notes-local on free ports with a prefix of its
# own, on the emulators AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_DYNAMODB name (scripts/test.sh
# exports them) or else on a moto and a DynamoDB Local of its own, on free ports too, and stops it
# at the end. It signs a new user up and passes that user's token (`Authorization: Bearer`).
#
# SCHEMATHESIS_SEED (23) fixes the generated data, SCHEMATHESIS_EXAMPLES (100) is the number of
# examples per operation and phase. Reports (JUnit, and a pytest file reproducing any failure) go
# to target/schemathesis/. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"
ensure_venv

BASE_URL="${1:-}"
SEED="${SCHEMATHESIS_SEED:-23}"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-100}"
OUT="$REPO/target/schemathesis"
mkdir -p "$OUT"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

if [[ -z "$BASE_URL" ]]; then
  step "schemathesis: a local stack of its own"
  cargo build -p notes-local --quiet
  HTTP_PORT="$(free_port)"
  ARGS=(--http-port "$HTTP_PORT" --ws-port "$(free_port)" --frontend-port "$(free_port)" --prefix "schemathesis-$RANDOM")
  if [[ -z "${AWS_ENDPOINT_URL:-}" ]]; then
    export MOTO_SERVER="${MOTO_SERVER:-$VENV/bin/moto_server}"
    ARGS+=(--moto-port "$(free_port)")
  fi
  if [[ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]]; then
    ensure_dynamodb_local
    ARGS+=(--dynamodb-port "$(free_port)")
  fi
  target/debug/notes-local "${ARGS[@]}" >"$OUT/stack.log" 2>&1 &
  PIDS+=($!)
  wait_for_port "$HTTP_PORT" 180 "$!" || { cat "$OUT/stack.log" >&2; exit 1; }
  BASE_URL="http://127.0.0.1:$HTTP_PORT"
fi
BASE_URL="${BASE_URL%/}"

step "schemathesis: a user to act as"
TOKEN="$("$VENV/bin/python" - "$BASE_URL" <<'PY'
import json, secrets, sys, urllib.request

base = sys.argv[1]
credentials = {"username": f"schemathesis-{secrets.token_hex(4)}", "password": secrets.token_urlsafe(18)}

def post(path, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)

post("/auth/signup", credentials)
print(post("/auth/login", credentials)["token"])
PY
)"

step "schemathesis: shared/openapi.yaml against $BASE_URL, every check, seed $SEED, $EXAMPLES examples per operation"
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run shared/openapi.yaml \
  --url "$BASE_URL" \
  --header "Authorization: Bearer $TOKEN" \
  --checks all \
  --seed "$SEED" \
  --max-examples "$EXAMPLES" \
  --report junit,pytest --report-dir "$OUT"
