# The README's two commands: `make run` and `make test`. Everything else is a convenience.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean

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

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_load.py --rows 100000

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
