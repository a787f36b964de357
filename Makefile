# The two quick-start commands are `make demo` and `make test`; everything else is here for operators
# and developers. Python 3.11 is required; the virtual environment lives in .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench install clean-demo

$(STAMP): requirements.txt requirements-dev.txt package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	# The DejaVu fonts embedded in printed slips, from the npm registry (package-lock.json pins them).
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

install: $(STAMP)

## Set up and start the demo: central (HQ) and office BBR on SQLite, with demo data; prints the logins.
demo: $(STAMP)
	$(BIN)/python -m registry.demo $(DEMO_ARGS)

## Set up and run the whole test suite (SQLite, PostgreSQL and Chromium where present; all three in CI).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Run the benchmarks and write docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean-demo:
	rm -rf instance/demo
