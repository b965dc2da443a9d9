# archlab: two entry points on a fresh machine.
#   make demo       create .venv, install archlab (what the tour needs), profile MobileFaceNet
#   make test       create .venv, install archlab with the test extras, run the fast lane of the tests
# and, for developers:
#   make test-slow  the slow studies and end-to-end runs (CI runs them too)
#   make test-all   every test
#   make lint       ruff (lint + format check) and mypy: the quality gates CI runs
#   make report     write reports/mobilefacenet.md and .html (archlab report --quick)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO    = $(VENV)/.archlab-demo
DEV     = $(VENV)/.archlab-dev
PYTEST  = $(BIN)/python -m pytest -q -p no:cacheprovider

.PHONY: demo test test-slow test-all lint format install bench clean report

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(DEMO)

$(DEV): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(DEMO) $(DEV)

install: $(DEV)

demo: $(DEMO)
	$(BIN)/archlab profile mobilefacenet
	@echo
	@echo "archlab is installed in $(VENV). Put it on your PATH for the tour in README.md:"
	@echo "    . $(VENV)/bin/activate"

test: $(DEV)
	$(PYTEST) -m "not slow"

test-slow: $(DEV)
	$(PYTEST) -m slow

test-all: $(DEV)
	$(PYTEST)

lint: $(DEV)
	$(BIN)/ruff check archlab tests benchmarks examples
	$(BIN)/ruff format --check archlab tests benchmarks examples
	$(BIN)/mypy

format: $(DEV)
	$(BIN)/ruff check --fix archlab tests benchmarks examples
	$(BIN)/ruff format archlab tests benchmarks examples

# reports/mobilefacenet.md (+ reports/mobilefacenet_files/) and .html: counts, heads, RF/ERF maps, no latency
report: $(DEMO)
	$(BIN)/archlab report mobilefacenet --quick --out reports/mobilefacenet.md --out reports/mobilefacenet.html

bench: $(DEMO)
	$(BIN)/python benchmarks/bench_startup.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
