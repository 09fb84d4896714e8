# One command to run Conclave, one to test it; both set up what they need first.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages: the media plane (Janus SFU, janus-pp-rec, ffmpeg), the browser for the page
# tests, and iproute2/procps for the network namespaces and processes the media tests manage.
APT_PACKAGES ?= janus janus-tools ffmpeg chromium iproute2 procps
BENCH_APT_PACKAGES ?= wrk

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

## bench: every benchmark in benchmarks/ (by hand, never in CI); each prints ratios against its baseline
bench: install system-deps
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(BENCH_APT_PACKAGES)"
	@status=0; for script in $(sort $(filter-out benchmarks/_%,$(wildcard benchmarks/*.py))); do 		echo "== $$script"; $(PY) $$script || status=1; 	done; exit $$status

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

.PHONY: compat-check
## compat-check: run the Qriib devkit Postman collection with newman (installed into compat/node_modules) against a temporary server
compat-check: install
	$(PY) compat/qriib_check.py
