PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test

# Start the server on port 8080 in the foreground (Ctrl+C stops it).
run: $(STAMP)
	$(BIN)/twistd -n chat --port 8080

# Lint, format check, type check, then every test.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable ".[test]" --config-settings editable_mode=compat
	touch $@
