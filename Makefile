# Two commands on a fresh machine (Python 3.11+):
#   make demo   install wicnews in .venv and run one monitoring cycle over the bundled sample site
#   make test   install wicnews with its test tools in .venv, lint it (ruff, mypy) and run the test suite
# For development: `make test-fast` runs only the in-process tests (no crawl, no subprocess, no
# PostgreSQL; pytest -m "not e2e"), in seconds.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test test-fast lint install crawl bench clean

$(BIN)/wicnews: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/wicnews

demo: install
	$(BIN)/wicnews demo

crawl: install
	$(BIN)/wicnews crawl

test: install lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

bench: install
	$(BIN)/python bench/extract_eval.py
	$(BIN)/python bench/crawl_throughput.py
	$(BIN)/python bench/prepare_bench.py
	$(BIN)/python bench/schedule_memory.py
	$(BIN)/python bench/query_latency.py

clean:
	rm -rf $(VENV) build *.egg-info
