# The two commands of the README: `make run` (API on embedded SQLite) and `make test`.
# Each program is its own distribution under services/; both targets install them editable
# into one venv. `run` installs only what the API (and its client CLI) needs.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PACKAGES := services/contract services/api services/node-agent services/cli services/kube-adapter
RUN_PACKAGES := services/contract services/api services/cli
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: run test lint openapi protos

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(BIN)/.installed-run: $(BIN)/python $(addsuffix /pyproject.toml,$(RUN_PACKAGES))
	$(BIN)/pip install --quiet $(addprefix -e ,$(RUN_PACKAGES))
	touch $@

$(BIN)/.installed: $(BIN)/python $(PYPROJECTS) requirements/dev.txt
	$(BIN)/pip install --quiet $(addprefix -e ,$(PACKAGES)) -r requirements/dev.txt
	touch $@ $(BIN)/.installed-run

run: $(BIN)/.installed-run
	PATH="$(abspath $(BIN)):$$PATH" ./scripts/run-api.sh

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy services
	$(BIN)/lint-imports

test: $(BIN)/.installed lint
	./scripts/test-tools.sh
	$(BIN)/pytest

openapi: $(BIN)/.installed
	$(BIN)/switchyard-api openapi > openapi.json

protos: $(BIN)/.installed
	$(BIN)/python scripts/gen_protos.py
