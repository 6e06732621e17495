PYTHON ?= python3
PORT ?= 8080
VENV := .venv
BIN := $(VENV)/bin
# Two installs: the server and its dependencies (what make run needs), then
# the test extra on top of it (what make test needs).
RUNTIME := $(VENV)/.runtime
STAMP := $(VENV)/.installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-programs

# Start the server on $(PORT) (8080 unless given: make run PORT=9000) in the
# foreground; Ctrl+C stops it.
run: $(RUNTIME)
	$(BIN)/twistd -n chat --port $(PORT)

# Lint, format check, type check, then every test.
test: $(STAMP) test-programs
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

# Programs some tests start besides the server: redis-server for the
# cluster, systemd-socket-activate and systemd-analyze for the systemd units,
# logrotate for contrib/logrotate, Apache's htpasswd for a password file
# written by it, Prometheus's promtool to check what --metrics serves,
# chromium for the browser tests
# (Playwright downloads no browser of its own here).  Debian's packages are
# installed when one is missing and apt-get is there.
test-programs:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	{ command -v systemd-socket-activate && command -v systemd-analyze; } >/dev/null \
		|| missing="$$missing systemd"; \
	command -v logrotate >/dev/null || missing="$$missing logrotate"; \
	command -v htpasswd >/dev/null || missing="$$missing apache2-utils"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	[ -z "$$missing" ] || ! command -v apt-get >/dev/null || { \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; }

# An editable install: the project's directory goes on sys.path, so the
# code and the twistd plugin are used from here.
$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable .
	touch $@

# The same install with the test tools (pytest, hypothesis, ruff, mypy,
# playwright, ...); after make run, only they are added.
$(STAMP): $(RUNTIME)
	$(BIN)/pip install --quiet --editable ".[test]"
	touch $@
