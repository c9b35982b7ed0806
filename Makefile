# govcrawler: `make demo` and `make test` are all a new machine needs (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DATABASE ?= sqlite:///archive.sqlite3

.PHONY: install demo test test-all lint check crawl bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: install  ## crawl the bundled copy of the site offline into archive.sqlite3
	$(BIN)/govcrawler crawl --replay tests/fixtures/site --database $(DATABASE)

test: install  ## the fast tests (offline): all but the `slow` and `bench` ones
	$(BIN)/python -m pytest -q -m "not slow and not bench"

test-all: install  ## every test (offline), as CI runs them
	$(BIN)/python -m pytest -q

lint: install  ## ruff, mypy and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

crawl: install  ## the real crawl of www.sc.gov.cn (needs the network)
	$(BIN)/govcrawler crawl --database $(DATABASE) --log-level INFO

bench: install  ## the benchmarks B1-B6 (long: not part of CI); writes benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks.run --all

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache
