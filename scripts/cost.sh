#!/usr/bin/env bash
# The cost per million notes, measured (`make cost`): two no-fault soaks in a release build, first
# COST_NOTES (1,000) private notes, then as many public ones, each of COST_NOTE_BYTES (1,024) bytes
# of English prose, each sent with an Idempotency-Key as the app sends it, COST_CONCURRENCY (1) at
# a time (few enough that a function's duration is the emulators' unloaded latency, not a queue in
# front of moto). Then scripts/cost.py prices what they counted (invocations, AWS calls, PutEvents
# entries and bytes, DynamoDB capacity units) and the bytes the functions logged, at the list
# prices in cost/prices.json. Exits non-zero above $8.00 per million private notes at one note per batch.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"
OUT="$REPO/target/cost"
mkdir -p "$OUT"

soak() { # soak NAME PUBLIC_EVERY
  step "cost: ${COST_NOTES:-1000} $1 notes of ${COST_NOTE_BYTES:-1024} bytes, no faults"
  SOAK_FAULT_PLAN=none SOAK_NOTES="${COST_NOTES:-1000}" SOAK_USERS="${COST_USERS:-50}" \
    SOAK_CONCURRENCY="${COST_CONCURRENCY:-1}" SOAK_NOTE_BYTES="${COST_NOTE_BYTES:-1024}" \
    SOAK_PUBLIC_EVERY="$2" SOAK_POISON_EVERY=0 SOAK_COUNTS_JSON="$OUT/$1.json" \
    bash scripts/soak.sh
  # The functions' own output: the JSON lines (logs and metrics) the soak's stack printed.
  grep '^{' "${TMPDIR:-/tmp}/notes-soak-output.log" > "$OUT/$1.log" || true
}

soak private 0
soak public 1
"$VENV/bin/python" scripts/cost.py \
  --private "$OUT/private.json" "$(wc -c < "$OUT/private.log")" "$(wc -l < "$OUT/private.log")" \
  --public "$OUT/public.json" "$(wc -c < "$OUT/public.log")" "$(wc -l < "$OUT/public.log")" "$@"
