# SoundScripter — every command lives here. `make help` lists them.
#
# `make run` and `make test` set up whatever is missing (virtualenv, Python and npm packages,
# Debian packages for the tests) and then run. Environment variables override `.env`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
WEB_SOURCES := $(shell find web/src web/public web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)
# Debian packages the test suite uses: command -> package.
TEST_TOOLS := espeak-ng:espeak-ng ffmpeg:ffmpeg chromium:chromium docker-compose:docker-compose tmux:tmux
PYTEST_ARGS ?=

.PHONY: help run test test-unit test-integration test-faults test-e2e screenshots lint format typecheck web web-types web-types-check bench \
	system-packages deps deps-dev migrate clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

run: deps web ## Run the platform (API + web UI + workers under Supervisor) in the foreground
	$(PY) deploy/run_local.py

test: deps-dev system-packages podman web web-types-check ## Run every check and test (lint, web tests, all pytest tiers)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	cd web && npm test
	$(VENV)/bin/pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

test-unit: deps-dev ## Unit tests only (no services)
	$(VENV)/bin/pytest -m unit $(PYTEST_ARGS)

test-integration: deps-dev system-packages ## Integration tests (real Postgres, Redis, RabbitMQ, worker)
	$(VENV)/bin/pytest -m integration $(PYTEST_ARGS)

test-faults: deps-dev system-packages ## Fault injection: crashes, cut connections, restarts (private instances)
	$(VENV)/bin/pytest -m faults $(PYTEST_ARGS)

test-e2e: deps-dev system-packages web ## End-to-end tests (real processes, model and browser)
	$(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)

.PHONY: test-containers test-cluster podman
test-containers: deps-dev system-packages podman ## Build both images with podman and run the stack as Compose would (containers tier)
	$(VENV)/bin/pytest -m containers $(PYTEST_ARGS)

test-cluster: deps-dev system-packages podman ## The images as a cluster: api replicas, worker hosts sharing no volume, SeaweedFS, hosts lost (cluster tier)
	$(VENV)/bin/pytest -m cluster $(PYTEST_ARGS)

podman: ## Install and configure rootful podman for the containers tier (Debian packages)
	@tests/containers/setup-podman.sh

screenshots: deps-dev system-packages web ## Run the browser and terminal tests and refresh docs/screenshots/
	UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest -m e2e $(PYTEST_ARGS)
	UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/integration/test_cli_terminal.py $(PYTEST_ARGS)

lint: deps-dev web-types-check ## ruff lint and format check, mypy, generated web types up to date
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: deps-dev ## Format the Python code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: deps-dev ## mypy
	$(VENV)/bin/mypy

migrate: deps ## Create the database if needed and apply migrations
	$(PY) -m core.migrate

bench: deps-dev system-packages podman ## Run the benchmarks and write docs/benchmarks.md
	$(PY) -m bench

web: web/dist/index.html ## Build the web UI into web/dist

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

# The web client's wire types are generated from the API's OpenAPI schema, built from
# `api.main.create_app` without starting it (no service is needed), and committed.
WEB_TYPES_DIR := web/src/api
WEB_TYPES := $(WEB_TYPES_DIR)/schema.d.ts $(WEB_TYPES_DIR)/states.generated.ts

web-types: deps web/node_modules/.installed ## Regenerate the web client's API types (web/src/api/schema.d.ts, states.generated.ts)
	set -o pipefail; $(PY) -m api.openapi | node web/scripts/generate-types.mjs $(WEB_TYPES_DIR)

web-types-check: deps web/node_modules/.installed ## Fail if the committed web API types differ from the current schema
	@set -o pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PY) -m api.openapi | node web/scripts/generate-types.mjs "$$tmp" || exit 1; \
	stale=0; for file in $(WEB_TYPES); do \
		diff -u "$$file" "$$tmp/$${file##*/}" || stale=1; \
	done; \
	if [ $$stale -ne 0 ]; then echo "The web API types are stale: run 'make web-types' and commit them." >&2; exit 1; fi

deps: $(VENV)/.runtime ## Install the runtime Python packages into .venv
deps-dev: $(VENV)/.dev ## Install runtime and development Python packages into .venv

$(PY):
	$(PYTHON) -m venv $(VENV)

# The project itself is installed in editable mode (its packages stay where they are) so the
# `soundscripter` command exists as .venv/bin/soundscripter.
$(VENV)/.runtime: requirements.txt requirements-nodeps.txt pyproject.toml | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps -r requirements-nodeps.txt
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

system-packages: ## Install missing Debian packages the tests need (espeak-ng, ffmpeg, chromium, tmux)
	@missing=""; for pair in $(TEST_TOOLS); do \
		command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		$$sudo apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

clean: ## Remove build output and caches (keeps .venv and data)
	rm -rf web/dist .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
