#!/usr/bin/env bash
# The soak, in a release build: `make soak`. SOAK_NOTES (10,000) notes from SOAK_USERS (50) users
# through a local stack under the `soak` fault plan (SOAK_FAULT_PLAN: a preset, a plan file, or
# `none`), reconciled note by note (tests/src/soak.rs). It starts its own DynamoDB Local and moto
# on free ports (127.0.0.1), stops them at the end, and exits non-zero when a target is missed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"
ensure_venv
ensure_dynamodb_local

# One WebSocket per user, the HTTP API's connections, the emulators' sockets: more than 1,024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

step "DynamoDB Local and moto for the soak"
DYNAMODB_PORT="$(free_port)"
run_dynamodb_local "$DYNAMODB_PORT" >"${TMPDIR:-/tmp}/notes-soak-dynamodb.log" 2>&1 &
PIDS+=($!)
wait_for_port "$DYNAMODB_PORT" 60 "$!" || { cat "${TMPDIR:-/tmp}/notes-soak-dynamodb.log" >&2; exit 1; }
MOTO_PORT="$(free_port)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"${TMPDIR:-/tmp}/notes-soak-moto.log" 2>&1 &
PIDS+=($!)
wait_for_port "$MOTO_PORT" 60 "$!"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export MOTO_SERVER="$VENV/bin/moto_server"

step "soak: ${SOAK_NOTES:-10000} notes from ${SOAK_USERS:-50} users, fault plan ${SOAK_FAULT_PLAN:-soak} (release build)"
# The functions' metric lines (CloudWatch EMF, JSON on stdout) go to a file; the reconciliation
# to the terminal. pipefail keeps the soak's exit status.
cargo bench -p notes-e2e --bench soak | tee "${TMPDIR:-/tmp}/notes-soak-output.log" | grep --line-buffered -v '^{"'

