# linli — the two set-up commands are `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install migration clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Install, create the schema, load the demo community and run everything embedded.
run: $(STAMP)
	$(BIN)/linli init-db
	$(BIN)/linli seed-demo
	$(BIN)/linli serve

## Install and run the whole test suite (embedded SQLite + Redis unless LINLI_TEST_* are set).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The lint .ci/run runs (rules in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .

## Regenerate the initial migration from the models (before the first release only).
migration: $(STAMP)
	$(BIN)/python -m app.migrations.regenerate

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
