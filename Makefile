# Two commands for a new user: `make run` and `make test`. Nothing to install by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

#: Test processes side by side (pytest-xdist): one per core; 0 runs the suite in one process.
TEST_PROCESSES ?= auto

# The suite starts the service's own commands (akta, gunicorn, workers) hundreds of times:
# without their bytecode cache each of them would compile the service again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint fmt bench install dev lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

#: The exact release of every package installed (`make lock` writes it anew).
CONSTRAINTS := constraints.txt
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP_INSTALL) -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

## run: install, migrate the embedded database, seed demo data, serve on http://$(HOST):$(PORT)/
run: install
	$(BIN)/akta db upgrade
	$(BIN)/akta seed
	$(BIN)/akta serve --host $(HOST) --port $(PORT)

## test: lint and type-check, then the whole suite (SQLite and PostgreSQL) with its coverage,
## which may not fall below the floor in pyproject.toml; one test file per process at a time
test: lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile --cov --cov-report=term $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: dev
	$(BIN)/python -m bench

## lock: pin the newest releases pyproject.toml's ranges allow, in a virtualenv of its own;
## review the difference and run `make test` before committing it
LOCK_VENV := $(VENV)-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[dev]'
	{ sed -n '/^#/p' $(CONSTRAINTS); $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } \
		> $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(LOCK_VENV)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
