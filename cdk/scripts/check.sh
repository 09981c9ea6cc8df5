#!/usr/bin/env bash
# The CDK app's checks, in one command, from the repository root:
#
#   bash cdk/scripts/check.sh
#
# 1. npm ci in cdk/ (from package-lock.json)     4. cdk synth of the four stacks and of the SAM stack
# 2. TypeScript typecheck (tsc --noEmit)            (-c sam=true), Rust bundling skipped, into a temp dir
# 3. jest (CDK assertions, cdk-nag, topology)    5. cfn-lint on every synthesized template
#                                                6. sam validate --lint on every template (if SAM is installed)
#                                                7. sam/test_sam_local.py: the README's sam commands through
#                                                   the SAM CLI's own providers (if SAM is installed)
#
# No AWS credentials and no network beyond the npm registry. Exits non-zero on the first failure.
# Environment:
#   CFN_LINT  cfn-lint to use (default: .venv/bin/cfn-lint, else cfn-lint on PATH)
#   SAM       SAM CLI to use (default: .venv/bin/sam, else sam on PATH; skipped if neither exists)
#   KEEP_SYNTH=1  keep the synthesized cloud assembly and print where it is
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CDK="$REPO/cdk"
# CFN_LINT and SAM may be given relative to where this is run from (e.g. CFN_LINT=.venv/bin/cfn-lint).
for tool in CFN_LINT SAM; do
  if [[ -n "${!tool:-}" && "${!tool}" != /* && -e "${!tool}" ]]; then
    printf -v "$tool" '%s' "$PWD/${!tool}"
  fi
done
cd "$CDK"

step() { printf '\n==> %s\n' "$*"; }

# Nothing below may reach AWS: no account lookup, no version check, no telemetry.
export CDK_DISABLE_VERSION_CHECK=1
export CDK_DISABLE_CLI_TELEMETRY=true
export AWS_EC2_METADATA_DISABLED=true
export SAM_CLI_TELEMETRY=0
export CI="${CI:-true}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/notes-cdk-check.XXXXXX")"
cleanup() {
  if [[ "${KEEP_SYNTH:-0}" == "1" ]]; then
    echo "synthesized cloud assembly kept in $WORK/cdk.out"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

step "npm ci (cdk/)"
npm ci --no-audit --no-fund --loglevel=error

step "typecheck (tsc --noEmit)"
npx --no-install tsc --noEmit -p tsconfig.json
echo "typecheck: ok"

step "jest"
JEST_LOG="$WORK/jest.log"
# jest writes its report to stderr; keep a copy to print the summary again at the end.
npx --no-install jest --ci 2>&1 | tee "$JEST_LOG"

step "cdk synth (Rust bundling skipped)"
# RustFunction reads the workspace's Cargo.toml at synth time; every function must be a crate of it.
# The functions are the ones shared/topology.json declares.
mapfile -t FUNCTIONS < <(node -e 'for (const f of Object.keys(require(process.argv[1]).functions)) console.log(f)' \
  "$REPO/shared/topology.json")
if ((${#FUNCTIONS[@]} == 0)); then
  echo "no function declared in shared/topology.json" >&2
  exit 1
fi
FUNCTIONS_DIR="$REPO/functions"
missing=()
for f in "${FUNCTIONS[@]}"; do
  [[ -f "$FUNCTIONS_DIR/$f/Cargo.toml" ]] || missing+=("$f")
done
if ((${#missing[@]} > 0)); then
  echo "function crates missing: ${missing[*]}" >&2
  exit 1
fi
OUT="$WORK/cdk.out"
npx --no-install cdk synth --quiet --no-notices --no-version-reporting \
  -c skipBundling=true \
  -c allowedOrigins=http://localhost:5173 \
  -o "$OUT"
# The SAM CLI's template, as the README synthesizes it (`-c sam=true -o cdk.out.sam`).
SAM_OUT="$WORK/cdk.out.sam"
npx --no-install cdk synth --quiet --no-notices --no-version-reporting \
  -c skipBundling=true \
  -c sam=true \
  -o "$SAM_OUT"
shopt -s nullglob
TEMPLATES=("$OUT"/*.template.json "$SAM_OUT"/*.template.json)
if ((${#TEMPLATES[@]} != 5)); then
  echo "expected 5 templates (4 stacks and the SAM stack), got: ${TEMPLATES[*]}" >&2
  exit 1
fi
printf 'synthesized: %s\n' "${TEMPLATES[@]##*/}"

step "cfn-lint"
if [[ -z "${CFN_LINT:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/cfn-lint" ]]; then
    CFN_LINT="$REPO/.venv/bin/cfn-lint"
  elif command -v cfn-lint >/dev/null 2>&1; then
    CFN_LINT="$(command -v cfn-lint)"
  else
    echo "cfn-lint not found: create the venv (.venv/bin/cfn-lint) or set CFN_LINT" >&2
    exit 1
  fi
fi
"$CFN_LINT" --version
"$CFN_LINT" -- "${TEMPLATES[@]}"
echo "cfn-lint: ${#TEMPLATES[@]} templates, no error, no warning"

step "sam validate --lint"
if [[ -z "${SAM:-}" ]]; then
  if [[ -x "$REPO/.venv/bin/sam" ]]; then
    SAM="$REPO/.venv/bin/sam"
  elif command -v sam >/dev/null 2>&1; then
    SAM="$(command -v sam)"
  fi
fi
if [[ -n "${SAM:-}" ]]; then
  "$SAM" --version
  for t in "${TEMPLATES[@]}"; do
    # Offline: SAM wants a region and some credentials to start, never uses them for validate --lint.
    AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_DEFAULT_REGION=us-east-1 \
      "$SAM" validate --lint --region us-east-1 --template-file "$t" 2>&1 |
      grep -v -e 'CDK apps are not officially supported' -e 'alternative command: cdk doctor'
  done
  echo "sam validate --lint: ${#TEMPLATES[@]} templates valid"
else
  echo "SKIPPED: SAM CLI not installed (pip install aws-sam-cli into .venv to enable this step)"
fi

step "SAM CLI: the README's sam commands, names, routes, events and variables (cdk/sam/test_sam_local.py)"
# The Python next to the SAM CLI (its entry script's interpreter) has samcli importable.
SAM_PYTHON=""
if [[ -n "${SAM:-}" ]]; then
  SAM_PYTHON="$(head -1 "$SAM" | sed -n 's/^#!//p')"
fi
if [[ -n "$SAM_PYTHON" ]] && "$SAM_PYTHON" -c 'import samcli' 2>/dev/null; then
  (cd "$REPO" && NOTES_SAM_ASSEMBLY="$SAM_OUT" "$SAM_PYTHON" -W ignore::DeprecationWarning -m unittest discover -s cdk/sam -v)
else
  echo "SKIPPED: no Python with the SAM CLI's modules (make venv installs them into .venv)"
fi

step "summary"
grep -E '^(Test Suites|Tests):' "$JEST_LOG" || true
echo "cdk check: all steps passed"
