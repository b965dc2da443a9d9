# archlab: two entry points on a fresh machine.
#   make demo   create .venv, install archlab, profile MobileFaceNet
#   make test   create .venv, install archlab with test extras, run the test suite
#   make report write reports/mobilefacenet.md and .html (archlab report --quick)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.archlab-installed

.PHONY: demo test install bench clean report

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/archlab profile mobilefacenet

test: $(STAMP)
	$(BIN)/python -m pytest -q

# reports/mobilefacenet.md (+ reports/mobilefacenet_files/) and .html: counts, heads, RF/ERF maps, no latency
report: $(STAMP)
	$(BIN)/archlab report mobilefacenet --quick --out reports/mobilefacenet.md --out reports/mobilefacenet.html

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_startup.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
