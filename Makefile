# The set-up contract: `make run` and `make test` on a fresh machine with Python 3.11+, Node/npm and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install when the dependency list changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DATA   ?= .nxhub-data
PYTEST_ARGS ?=

NODE_STAMP := node_modules/.installed

.PHONY: venv run test bench lint mutate clean

venv: $(STAMP)

# configurable-http-proxy for JupyterHub, pinned in package-lock.json (npm ci wipes node_modules, so touch after).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e ".[all]"
	@rm -f $(VENV)/.installed-*
	@touch $@

## Start the local hub on the embedded default (SQLite, local files, demo data) at http://127.0.0.1:8000
run: venv $(NODE_STAMP)
	NXHUB_DATA_DIR=$(DATA) $(BIN)/nxhub up

## Run the whole test suite (SQLite and a real PostgreSQL; the EM corpus from ../shared when present)
test: venv $(NODE_STAMP) lint
	@bash tests/prereqs.sh
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

## Benchmarks against NexusLIMS 2.8.0 and fixed goals, printing ratios measured in the same run
bench: venv
	$(BIN)/python -m benchmarks

## Mutation check: one-line breaks of the claim, cache, state-machine, ACL and log-scrubbing rules; each must fail a test
mutate: venv
	$(BIN)/python tests/mutation/known_mutants.py

## Lint with the rule set chosen in pyproject.toml (ruff pinned there); `make test` runs it first
lint: venv
	$(BIN)/python -m ruff check .

clean:
	rm -rf $(VENV) .venv-bench-* .pytest_cache node_modules
