# packgraph: `make run` sets up and starts the server with demo data; `make test` runs every test.
# Each step only redoes work whose inputs changed, so a second `make run` starts in seconds.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.packgraph-installed

FRONTEND := frontend
HAS_FRONTEND := $(wildcard $(FRONTEND)/package.json)
NODE_STAMP := $(FRONTEND)/node_modules/.packgraph-installed
DIST_INDEX := $(FRONTEND)/dist/index.html
# The dashboard is rebuilt when any of these is newer than the built index.html.
FRONTEND_SOURCES = $(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null) \
	$(wildcard $(FRONTEND)/index.html $(FRONTEND)/vite.config.* $(FRONTEND)/tsconfig*.json \
	$(FRONTEND)/codegen.* $(FRONTEND)/package.json schema.graphql)
HAS_E2E = $(wildcard $(FRONTEND)/playwright.config.*)

.PHONY: help run setup python frontend test test-python test-frontend chromium lint format docs \
	clean bench soak imports fixtures

help:
	@echo "make run     set up and start packgraph on http://$(HOST):$(PORT) with demo data"
	@echo "             (HOST=... PORT=... to change the address)"
	@echo "make test    set up and run every test (Python on SQLite + PostgreSQL, dashboard)"
	@echo "make lint    ruff check + format check + the import contracts (lint-imports)"
	@echo "make docs    regenerate the README settings table"

# ---------------------------------------------------------------- Python environment

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

python: $(PY_STAMP)

# ---------------------------------------------------------------- dashboard

ifneq ($(HAS_FRONTEND),)
$(NODE_STAMP): $(FRONTEND)/package.json $(wildcard $(FRONTEND)/package-lock.json)
	cd $(FRONTEND) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
		else npm install --no-audit --no-fund; fi
	touch $@

$(DIST_INDEX): $(NODE_STAMP) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && npm run build
	touch $@

frontend: $(DIST_INDEX)
else
frontend:
	@echo "no $(FRONTEND)/package.json: the dashboard is not built"
endif

setup: python frontend

# ---------------------------------------------------------------- run

run: setup
	$(BIN)/packgraph migrate
	$(BIN)/packgraph seed-demo --if-empty
	@echo
	@echo "  packgraph is starting on http://$(HOST):$(PORT)"
	@echo "    dashboard  http://$(HOST):$(PORT)/"
	@echo "    GraphiQL   http://$(HOST):$(PORT)/graphql"
	@echo "    metrics    http://$(HOST):$(PORT)/metrics"
	@echo "  demo logins (password: demo): owner@demo.test, manager@demo.test, staff@demo.test"
	@echo
	exec $(BIN)/packgraph serve --host $(HOST) --port $(PORT)

# ---------------------------------------------------------------- tests

# Browser tests drive Debian's chromium (no downloaded browser builds).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# Hook for the dashboard's own tests (Vitest; Playwright end-to-end once a playwright config
# exists). Does nothing while there is no frontend/package.json.
test-frontend: setup
ifneq ($(HAS_FRONTEND),)
	cd $(FRONTEND) && npm run --if-present codegen:check
	cd $(FRONTEND) && npm run --if-present test
ifneq ($(HAS_E2E),)
	$(MAKE) chromium
	cd $(FRONTEND) && npm run e2e
endif
endif

test-python: python
	$(BIN)/pytest $(PYTEST_ARGS)

# Recordings the dashboard's tests replay, made by a live run of the server (commit the result):
# the pack events and boards of tests/live/test_live_board.py for features/packs/liveVerify.test.ts.
fixtures: python
	PACKGRAPH_WRITE_FIXTURES=1 $(BIN)/pytest -q tests/live/test_live_board.py -k tour

# The import contracts of pyproject.toml (docs/architecture.md): first, as they take a second.
imports: python
	$(BIN)/lint-imports --no-cache

test: setup imports test-frontend test-python
	$(BIN)/ruff check src tests

# Benchmarks (issue 9): real server processes on fresh databases, every figure a ratio against a
# baseline measured in the same run. Several minutes; not part of `make test`. BENCH_ARGS=--quick
# for a shorter run. Writes bench/results/<date>.md.
bench: python
	$(BIN)/python -m bench $(BENCH_ARGS)

# The hardening suite at soak strength: many more generated cases (new random seed each run) and
# more SIGKILLs; then the server soak (issue 24) for SOAK_SECONDS on SQLite + memory:// (50
# subscribers) and on PostgreSQL + Redis (500 subscribers), each failing on memory growth or p99
# drift and written to bench/results. `make test` runs short, fixed versions of both.
SOAK_SECONDS ?= 1800
SOAK_CHECKS := --max-rss-slope 1 --max-p99-drift 1.5 --window 300 --warmup 120 --write --progress
soak: python
	PACKGRAPH_FUZZ_EXAMPLES=2000 PACKGRAPH_SOAK_KILLS=10 $(BIN)/pytest tests/hardening
	$(BIN)/python -m bench.soak --duration $(SOAK_SECONDS) $(SOAK_CHECKS) \
		--backend sqlite --broadcast memory --subscribers 50
	$(BIN)/python -m bench.soak --duration $(SOAK_SECONDS) $(SOAK_CHECKS) \
		--backend postgres --broadcast redis --subscribers 500

lint: python imports
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: python
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

docs: python
	$(BIN)/python -c "from pathlib import Path; from packgraph.cli import update_readme; \
		print('README.md updated' if update_readme(Path('README.md')) else 'README.md up to date')"

clean:
	rm -rf $(VENV) $(FRONTEND)/node_modules $(FRONTEND)/dist .pytest_cache .ruff_cache
