# The two commands of the README, and a few more for developers.
.PHONY: local test bench soak cost sim venv fmt function

## Run the whole suite locally (REST :3000, WebSocket :3001, app :8080). Ctrl-C stops it.
local:
	bash scripts/local.sh

## Run every test: Rust, frontend, CDK and browser. CI runs this.
test:
	bash scripts/test.sh

## Latency benchmark of the running pipeline (release build): POST /notes to the WebSocket message.
bench:
	bash scripts/bench.sh

## Soak under the `soak` fault plan (release build), reconciled: SOAK_NOTES (10000), SOAK_USERS (50).
soak:
	bash scripts/soak.sh

## Cost per million notes, measured: two no-fault soaks priced by scripts/cost.py (cost/prices.json).
cost:
	bash scripts/cost.sh

# The deterministic simulation: `make sim SEEDS=N [FIRST=S] [STEPS=K]` (docs/simulation.md).
sim:
	SEEDS=$(or $(SEEDS),200) FIRST=$(or $(FIRST),1) STEPS=$(or $(STEPS),300) cargo run --quiet -p notes-sim

## A new function's crate from its declaration in shared/topology.json: make function NAME=get-note-history
function:
	python3 scripts/new_function.py $(NAME)

venv:
	bash -c 'source scripts/lib.sh && ensure_venv'

fmt:
	cargo fmt --all
