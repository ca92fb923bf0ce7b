# The README's commands. Everything runs from the project's .venv (scripts/bootstrap.sh makes it).
.PHONY: run demo touch test test-fast bench lint constraints

VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3.11
UV_VERSION := $(shell grep -i '^uv==' constraints.txt | cut -d= -f3)

# Airflow + two sample PostgreSQL sources + the Delta warehouse, all local (Ctrl-C stops it).
run:
	scripts/demo.sh

demo: run

# While `make run` is up: insert and update a few source rows, then sync again to see them.
touch:
	$(PY) include/demo/seed.py --touch "$$($(PY) include/demo/embedded_pg.py uri .airflow/pgdata)"

test:
	scripts/test.sh

# The fast tier for your own loop: pure unit tests, no service, no lint, no UI build (under a minute).
test-fast:
	scripts/bootstrap.sh
	$(VENV)/bin/pytest -m "not integration" -q

bench:
	scripts/bootstrap.sh dev,demo,bench
	$(PY) bench/run.py

lint:
	scripts/bootstrap.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy plugins/warehouse_sources

# Re-resolve every pin from scratch in a throwaway venv: header line and uv pin first, then
# `uv pip freeze` minus the project itself, uv and anything installed from a local path.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	.venv-constraints/bin/uv pip install --quiet --python .venv-constraints/bin/python -e ".[dev,demo,bench]"
	{ head -n 1 constraints.txt; echo "uv==$(UV_VERSION)"; \
	  .venv-constraints/bin/uv pip freeze --python .venv-constraints/bin/python \
	    | grep -viE '^(-e |uv( |==|$$)|warehouse-sources)' | grep -v ' @ file:'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints
