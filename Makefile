# The two commands of the README: `make run` (API on embedded SQLite) and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: run test lint openapi protos

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	PATH="$(abspath $(BIN)):$$PATH" ./scripts/run-api.sh

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy services

test: $(BIN)/.installed lint
	$(BIN)/pytest

openapi: $(BIN)/.installed
	$(BIN)/switchyard-api openapi > openapi.json
