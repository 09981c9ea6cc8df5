# The two commands of the README, and a few more for developers.
.PHONY: local test bench venv fmt

## Run the whole suite locally (REST :3000, WebSocket :3001, app :8080). Ctrl-C stops it.
local:
	bash scripts/local.sh

## Run every test: Rust, frontend, CDK and browser. CI runs this.
test:
	bash scripts/test.sh

## Latency benchmark of the running pipeline (release build): POST /notes to the WebSocket message.
bench:
	bash scripts/bench.sh

venv:
	bash -c 'source scripts/lib.sh && ensure_venv'

fmt:
	cargo fmt --all
