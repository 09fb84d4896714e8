# One command to run Conclave, one to test it; both set up what they need first.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages for the media plane (Janus SFU, janus-pp-rec, ffmpeg).
APT_PACKAGES ?= janus janus-tools ffmpeg chromium

.PHONY: install system-deps run test bench lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## install: create .venv with Conclave and its development tools (idempotent)
install: $(STAMP)

## system-deps: install missing Debian packages (needs root and apt-get)
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			(apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
			 (apt-get update >/dev/null && apt-get install -y --no-install-recommends $$missing >/dev/null)); \
		else echo "warning: missing Debian packages:$$missing (install them as root)"; fi; \
	fi

## run: start the server on CONCLAVE_HOST:CONCLAVE_PORT (default 127.0.0.1:8000), embedded SQLite
run: install system-deps
	$(VENV)/bin/conclave serve

## test: the whole suite, on SQLite and PostgreSQL
test: install system-deps
	$(PY) -m pytest

## bench: the benchmarks in benchmarks/ (by hand, never in CI)
bench: install
	$(PY) benchmarks/api_throughput.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

.PHONY: compat-check
## compat-check: run the Qriib devkit Postman collection with newman (installed into compat/node_modules) against a temporary server
compat-check: install
	$(PY) compat/qriib_check.py
