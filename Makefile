# The set-up contract: `make run` and `make test` on a fresh machine with Python 3.11+, Node/npm and git.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Re-install when the dependency list changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DATA   ?= .nxhub-data
PYTEST_ARGS ?=

NODE_STAMP := node_modules/.installed

.PHONY: venv run test screenshots bench lint mutate clean

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

## The README's pictures: the tests that take them write into docs/screenshots (with facts.json, the texts each shows,
## checked against the current pages by tests/pages); then what changed. One file: make screenshots SHOT_TESTS=tests/e2e/...
SHOT_TESTS ?= tests/e2e/test_hub_browser.py tests/pages/test_pages_browser.py tests/logger/test_logger_window.py tests/logger/test_logger_faults.py
screenshots: venv $(NODE_STAMP)
	NXHUB_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -p no:cacheprovider $(SHOT_TESTS) $(PYTEST_ARGS)
	@git status --short docs/screenshots
	@git diff --stat docs/screenshots

## Benchmarks against NexusLIMS 2.8.0 and fixed goals, printing ratios measured in the same run
bench: venv
	$(BIN)/python -m benchmarks

## Mutation check: one-line breaks of the claim, cache, state-machine, ACL and log-scrubbing rules; each must fail a test
mutate: venv
	$(BIN)/python tests/mutation/known_mutants.py

## Lint with the rule set chosen in pyproject.toml (ruff pinned there); `make test` runs it first
lint: venv
	$(BIN)/python -m ruff check .

.PHONY: logger-dist
## The Logger for microscope PCs: a one-folder PyInstaller app and the zipapp, in logger/dist/ (build on each target OS)
logger-dist: venv
	$(BIN)/python logger/build_dist.py

clean:
	rm -rf $(VENV) .venv-bench-* .venv-nemo .pytest_cache node_modules
