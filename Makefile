# The README's two commands: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean browser

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/pulse-console --demo

lint: $(STAMP)
	$(BIN)/ruff check pulse_console connectors storage tests benchmarks
	$(BIN)/ruff format --check pulse_console connectors storage tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy pulse_console connectors storage

unit: $(STAMP) browser
	$(BIN)/pytest -q -n 2

# The web console's browser test drives Debian's chromium: installed here when missing and
# we may (root with apt-get); otherwise that one test is skipped and says why.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver >/dev/null) || echo "chromium could not be installed"; \
	  else echo "chromium/chromedriver missing: the web console's browser test is skipped"; fi; \
	fi

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_load.py --rows 100000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
