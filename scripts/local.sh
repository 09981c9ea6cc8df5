#!/usr/bin/env bash
# The whole suite on this machine, with no AWS account: `make local`.
# Installs what it needs (the Python venv with moto, Java and DynamoDB Local, the frontend's npm
# packages), builds the frontend and the local stack, then runs it: REST on :3000, WebSocket on
# :3001, the app on :8080. The stack starts DynamoDB Local (in memory; `--dynamodb-data DIR` keeps
# the table in DIR across restarts) and moto itself.
# Ctrl-C stops everything it started. Extra arguments go to notes-local (see local/README.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ensure_venv
ensure_dynamodb_local
build_frontend
step "local stack: cargo build"
cargo build -p notes-local --quiet
export MOTO_SERVER="$VENV/bin/moto_server"
exec target/debug/notes-local --frontend-dir frontend/build "$@"
