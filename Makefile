# linli — the two set-up commands are `make run` and `make test` (see README).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run try test lint install migration clean bench browser-test vendor

VENDOR := app/web/static/vendor
# Browser assets from the npm registry (package.json, versions pinned in package-lock.json), served by
# the app itself: government intranets have no internet and no CDN.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	cp node_modules/chart.js/LICENSE.md $(VENDOR)/chart.js-LICENSE.md
	touch $@

vendor: $(VENDOR)/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) vendor

## Install, create the schema, load the demo community and run everything embedded.
run: install
	$(BIN)/linli init-db
	$(BIN)/linli seed-demo
	$(BIN)/linli web-demo
	$(BIN)/linli serve

## The same with the demo's fast clock: the one-hour reply SLA lasts two minutes (see /try).
try: install
	LINLI_DEMO_CLOCK_FACTOR=30 $(MAKE) --no-print-directory run

## Install and run the whole test suite (embedded SQLite + Redis unless LINLI_TEST_* are set).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The browser tests alone (headless Chromium from Debian: apt-get install chromium).
browser-test: install
	$(BIN)/python -m pytest -m browser tests/browser $(PYTEST_ARGS)

## The lint .ci/run runs (rules in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .

## Regenerate the initial migration from the models (before the first release only).
migration: $(STAMP)
	$(BIN)/python -m app.migrations.regenerate

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules $(VENDOR)
