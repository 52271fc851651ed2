# Atlas: two commands do everything on a fresh machine.
#   make run   — install, generate the sample estate, build what changed, print a summary
#   make test  — install, run the test suite
#   make ui    — open the Dagster UI on the same definitions (`dg dev`, http://127.0.0.1:3000)
#   make dashboard — the interactive dashboard on the published snapshot (http://127.0.0.1:8501)
#   make docs  — generate the dbt docs site (dbt docs generate) from the warehouse
#   make atlas ARGS='sql "select 1"' — any `atlas` command (the same as .venv/bin/atlas …)
PY ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9
AZURITE_VERSION := 3.35.0
AZURITE := .tools/node_modules/.bin/azurite-blob
export ATLAS_HOME ?= $(CURDIR)/.atlas
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# dagster-dbt runs the `dbt` executable: the venv's bin must be on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: install run test test-py312 ui dashboard docs atlas lint lock clean bench bench-incremental bench-peer focus-validate

install: $(STAMP)

# uv installs the exact lock (with bytecode: this shell sets PYTHONDONTWRITEBYTECODE, so
# without compiled .pyc every interpreter start would re-parse GX, sktime and dbt).
$(STAMP): requirements.lock.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_COMPILE_BYTECODE=1 $(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# Azurite (Azure Blob emulator, npm) for the object-store tests; 3.35 is the newest that runs on Node 20.
# Without npm the Azure tests skip and say why.
$(AZURITE):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --prefix .tools azurite@$(AZURITE_VERSION); \
	else echo "npm not found: Azure Blob store tests will be skipped"; fi

# Debian's chromium for the headless-browser tests of the overview report and the dashboard (tests/e2e).
# Installed only when missing; without apt-get (or root) the test skips and says why.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: the browser test will be skipped"; \
	else echo "apt-get unavailable or not root: chromium not installed, the browser test will be skipped"; fi

# Debian's PostgreSQL server for the Dagster-on-Postgres tests (tests/integration, marker `postgres`):
# installed only when no initdb is found; without apt-get (or root) those tests skip and say why.
.PHONY: postgresql
postgresql:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) \
		|| echo "could not install postgresql: the Dagster-on-Postgres tests will be skipped"; \
	else echo "PostgreSQL not installed and apt-get unavailable or not root: the Postgres tests will be skipped"; fi

run: install
	$(BIN)/atlas run

# Both CI cores: modules sharing a session estate or the emulators stay on one worker (loadgroup).
# The fast loop: `.venv/bin/pytest tests/unit -m "not slow"` (pure Python); tests by kind and their markers: README, "Development".
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
test: install $(AZURITE) $(CHROMIUM) postgresql
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Billing-path benchmark: SCALE = smoke | 1M | 10M | 30M line items per month (see bench/);
# ENGINE=spark also builds the same models on a local Spark in the same run (ratios to DuckDB's).
SCALE ?= 1M
ENGINE ?= duckdb
bench: install
	$(BIN)/python bench/billing_pipeline.py --scale $(SCALE) --engine $(ENGINE)

# `atlas run` as users see it: the full build, then a no-op run, a restated month and a new
# telemetry day, each as a fraction of the full build (bench/incremental_runs.py).
MONTHS ?= 12
bench-incremental: install
	$(BIN)/python bench/incremental_runs.py --scale $(SCALE) --months $(MONTHS)

# Atlas beside the FinOps Foundation's focus-converter and DuckDB on one resampled legacy CUR,
# in one run: ROWS = smoke | 100k | 1M (focus-converter gets its own venv under $(ATLAS_HOME)).
ROWS ?= 1M
bench-peer: install
	$(BIN)/python bench/focus_peer.py --rows $(ROWS)

ui: install
	$(BIN)/atlas ui

# dbt's docs site (models, columns with their types, lineage) from the warehouse `make run` built:
# dbt_project/target/index.html + catalog.json. `make docs SERVE=1` also serves it on :8080.
docs: install
	$(BIN)/atlas docs $(if $(SERVE),--serve,)

# `atlas` without activating the venv: make atlas ARGS='tables'
ARGS ?= --help
atlas: install
	@$(BIN)/atlas $(ARGS)

DASHBOARD_HOST ?= 127.0.0.1
DASHBOARD_PORT ?= 8501
dashboard: install
	$(BIN)/atlas dashboard --host $(DASHBOARD_HOST) --port $(DASHBOARD_PORT)

# FinOps Foundation focus-validator over $(ATLAS_HOME)'s focus_cost_and_usage, as a report
# (own Python 3.12 env via uv; bundled FOCUS 1.2 rules, --block-download). Run `make run` first.
focus-validate: install
	$(BIN)/python tools/focus_validate.py

# The same lock on Python 3.12 (supported; the lock is compiled and CI runs on 3.11): a second venv,
# then the unit, dbt and Dagster tests (no emulators, no e2e). Not at the same time as another test run in this folder (dbt's target/).
PY312 ?= python3.12
VENV312 := .venv-py312
test-py312:
	$(PY312) -m venv $(VENV312)
	$(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	UV_COMPILE_BYTECODE=1 $(VENV312)/bin/uv pip sync --quiet --python $(VENV312)/bin/python requirements.lock.txt
	$(VENV312)/bin/uv pip install --quiet --python $(VENV312)/bin/python --no-deps -e .
	PATH=$(CURDIR)/$(VENV312)/bin:$$PATH $(VENV312)/bin/python -m pytest tests/unit tests/dbt tests/dagster

lint: install
	$(BIN)/ruff check atlas_pipeline tests bench

lock:
	$(BIN)/uv pip compile requirements.in -p 3.11 -o requirements.lock.txt --no-header

clean:
	rm -rf $(VENV) $(VENV312) .tools .atlas dbt_project/target dbt_project/logs
