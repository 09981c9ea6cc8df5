#!/usr/bin/env bash
# Benchmarks, in release builds: `make bench`. The stack starts its own DynamoDB Local and moto.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"
ensure_venv
ensure_dynamodb_local
export MOTO_SERVER="$VENV/bin/moto_server"
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_DYNAMODB
step "pipeline latency: POST /notes to the WebSocket note-saved (local stack, release build)"
cargo bench -p notes-e2e --bench pipeline_latency
step "fan-out: one public note to ${FANOUT_CONNECTIONS:-2000} open WebSocket connections, each exactly once (release build)"
# Each connection is two sockets in this one process (the client's and the local stack's).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
cargo bench -p notes-e2e --bench fanout
step "one TransactWriteItems as the table grows (DynamoDB Local, release build)"
cargo bench -p notes-e2e --bench table_growth
