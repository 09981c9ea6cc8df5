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
step "one TransactWriteItems as the table grows (DynamoDB Local, release build)"
cargo bench -p notes-e2e --bench table_growth
