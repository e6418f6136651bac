# The only commands anyone needs: run, test, lint, bench, migrate (docs/STYLE.md §8).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run
.DELETE_ON_ERROR:

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Rebuilt only when the lock changes.
STAMP := $(VENV)/.synced

HOST ?= 127.0.0.1
PORT ?= 8000
DATABASE_URL ?= sqlite:///$(CURDIR)/var/ladder.db
TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/ladder_test
PYTEST_ARGS ?=
BENCH_ARGS ?=

# Migrations never read the secret; without one, run them in demo mode so the settings accept the placeholder.
MIGRATE_ENV = DATABASE_URL='$(DATABASE_URL)' $(if $(LADDER_SECRET_KEY),,LADDER_DEMO_MODE=1)
# `make run` is the plain-HTTP local demo.
RUN_ENV = DATABASE_URL='$(DATABASE_URL)' LADDER_DEMO_MODE=1 LADDER_SECURE_COOKIES=0

.PHONY: run test test-sqlite test-pg lint migrate bench report venv lock clean

venv: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "Ladder needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) scripts/sync_venv.py requirements.lock
	@touch $@

migrate: $(STAMP)
	@mkdir -p var
	$(MIGRATE_ENV) $(PY) -m alembic upgrade head

run: $(STAMP)
	@mkdir -p var
	$(RUN_ENV) $(PY) -m alembic upgrade head
	$(RUN_ENV) $(PY) -m seeds demo
	@echo
	@echo "Ladder 企业梯度培育服务平台: http://$(HOST):$(PORT)"
	@echo "Demo logins (password ladder-demo): admin, officer_jingan, officer_yangpu, officer_hongkou, leader"
	@echo
	@# The job worker (huey, SQLite queue var/huey.db: large imports) runs beside the server and stops with it.
	$(RUN_ENV) $(PY) -m huey.bin.huey_consumer app.jobs.huey --workers 1 --logfile var/huey.log & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	env $(RUN_ENV) $(PY) -m uvicorn app.main:app --host '$(HOST)' --port '$(PORT)'

# The whole suite twice: SQLite (embedded default) and PostgreSQL (production). -k runs the second even when the
# first fails; make still exits non-zero. pytest's exit code 5 (no tests collected) fails too.
test: $(STAMP)
	@$(MAKE) --no-print-directory -k test-sqlite test-pg

test-sqlite: $(STAMP)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "== pytest on SQLite ($$tmp/ladder_test.db)"; \
	TEST_DATABASE_URL="sqlite:///$$tmp/ladder_test.db" $(PY) -m pytest $(PYTEST_ARGS)

test-pg: $(STAMP)
	@echo "== pytest on PostgreSQL ($(TEST_PG_URL))"
	@$(PY) scripts/testdb.py recreate '$(TEST_PG_URL)'
	TEST_DATABASE_URL='$(TEST_PG_URL)' $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	@status=0; \
	$(VENV)/bin/ruff check . || status=1; \
	$(VENV)/bin/ruff format --check . || status=1; \
	echo "== mypy (informational)"; \
	$(VENV)/bin/mypy app || true; \
	exit $$status

# The bench builds and migrates its own databases (never DATABASE_URL).
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)
	LADDER_DEMO_MODE=1 $(PY) -m bench.grants
	LADDER_DEMO_MODE=1 $(PY) -m bench.imports
	LADDER_DEMO_MODE=1 $(PY) -m bench.reports

# Close a month (default: the last one ended) and write its report to var/reports/: make report MONTH=2026-10
report: $(STAMP)
	$(MIGRATE_ENV) $(PY) -m app.reports.close $(MONTH)

# Rewrite the lock from the current virtualenv (after changing pyproject.toml and installing).
lock:
	{ echo "# Exact pins of every installed package (runtime and dev tools), Python 3.11."; \
	  echo "# Regenerate from a working .venv with: make lock   (pip freeze --exclude-editable)"; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements.lock
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache test-results
