PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test redis-server chromium

# Start the server on port 8080 in the foreground (Ctrl+C stops it).
run: $(STAMP)
	$(BIN)/twistd -n chat --port 8080

# Lint, format check, type check, then every test.
test: $(STAMP) redis-server chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# The cluster tests start redis-server processes of their own: install
# Debian's package when it is missing and apt-get is there.
redis-server:
	@command -v redis-server >/dev/null || ! command -v apt-get >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

# The browser tests drive Debian's chromium (Playwright downloads no browser
# of its own here): install it when it is missing and apt-get is there.
chromium:
	@command -v chromium >/dev/null || ! command -v apt-get >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable ".[test]" --config-settings editable_mode=compat
	touch $@
