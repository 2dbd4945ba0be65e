# Rita connections: the front door. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON ?= 3.11
# pip installs uv into the interpreter's scripts folder (or the user's); make sure it is found.
PY_SCRIPTS := $(shell python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)
export PATH := $(PY_SCRIPTS):$(HOME)/.local/bin:$(PATH)
UV := uv
PACKAGES := $(sort $(dir $(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)))
PYTEST_ARGS ?=

.PHONY: help
help: ## List every target with one line each
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.PHONY: install
install: ## Install uv (with pip) if missing, then every Python package (uv sync)
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --all-packages
	@bash scripts/install-extras.sh

.PHONY: servers
servers: ## Start PostgreSQL, RabbitMQ and Redis if they are not running
	@bash scripts/ensure-servers.sh

.PHONY: migrate
migrate: install ## Apply the database migrations (DATABASE_URL, ITSM_SYNC_DATABASE_URL)
	@bash scripts/migrate.sh

.PHONY: dev
dev: install servers ## Start the whole system locally (creates and migrates the databases first)
	@bash scripts/dev.sh

.PHONY: test
test: install servers lint ## Lint, then run every package's tests (web unit tests, then pytest incl. browser e2e)
	@if [ -f web/package.json ]; then (cd web && npm test); fi
	$(UV) run pytest $(PYTEST_ARGS)

.PHONY: chaos
chaos: install servers ## The chaos suite: kill, restart and cut off real processes; prints its table
	$(UV) run pytest tests/chaos -m "" -p no:cacheprovider $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff (format check + lint) and mypy strict on every package
	$(UV) run ruff format --check .
	$(UV) run ruff check .
	@set -e; for pkg in $(PACKAGES); do \
		echo "mypy $$pkg"; \
		(cd $$pkg && MYPYPATH=src $(UV) run mypy --config-file $(CURDIR)/pyproject.toml src $$(ls tests/*.py >/dev/null 2>&1 && echo tests)); \
	done
	@if ls tests/*/*.py >/dev/null 2>&1; then echo "mypy tests"; $(UV) run mypy tests; fi
	@if [ -f web/package.json ]; then echo "web: eslint + tsc"; (cd web && npm run lint); fi
	@if [ -d bench ] && ls bench/*.py >/dev/null 2>&1; then MYPYPATH=bench $(UV) run mypy bench; fi

.PHONY: fmt
fmt: install ## Format and autofix with ruff
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

.PHONY: schema
schema: install ## Regenerate the committed JSON Schema, AsyncAPI and OpenAPI (+ web client types) documents
	$(UV) run contracts-schema
	@if [ -f web/package.json ]; then (cd web && npm run openapi); fi
	@for s in services/*/scripts/export-docs.sh; do [ -f "$$s" ] && bash "$$s" || true; done

.PHONY: bench
bench: install servers ## Run every benchmark in bench/ (prints RESULT lines)
	@set -e; for b in bench/*.py; do echo "== $$b"; $(UV) run python $$b; done

.PHONY: clean
clean: ## Remove caches and the virtual environment
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache .hypothesis
