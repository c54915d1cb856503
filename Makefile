# The two commands a new user needs: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint unit bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## Provision PostgreSQL, migrate, seed 10,000 civil servants, start the sandbox and the hub.
demo: $(VENV)/.installed
	$(BIN)/hub demo

## Lint, type-check, check layering and the exported schema, then run every test.
test: lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/hub export-schema --check

## The reference-query load benchmark against the hand-written baseline.
bench: $(VENV)/.installed
	$(BIN)/python -m bench.reference

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
