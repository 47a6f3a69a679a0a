# thermosim — the two commands a newcomer needs: `make demo` and `make test`.
# Each installs what is missing (ngspice via apt-get, a venv, the package) and is a no-op when present.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.thermosim-installed

.PHONY: setup ngspice demo test test-slow netlists bench lint clean

setup: ngspice $(STAMP)

ngspice:
	@command -v ngspice >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[setup] ngspice not found: installing it with apt-get"; \
	    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ngspice; } >/tmp/thermosim-apt.log 2>&1; then \
	      echo "error: apt-get could not install ngspice (log: /tmp/thermosim-apt.log); install ngspice >= 39 yourself" >&2; exit 1; \
	    fi; \
	  else \
	    echo "error: ngspice is not installed, and installing it needs root and apt-get; install ngspice >= 39 (e.g. 'sudo apt-get install ngspice') and rerun" >&2; exit 1; \
	  fi; }

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (thermosim needs Python >= 3.11)" >&2; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@# byte-code compiled on both cores afterwards rather than by pip on one (35 s → 29 s here), thermosim's
	@# own too: where PYTHONDONTWRITEBYTECODE is set, nothing else ever caches it (50 ms per process)
	$(PY) -m pip install -q --no-compile --disable-pip-version-check -e '.[dev,digital]'
	$(PY) -m compileall -qq -j 0 thermosim "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" || true
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/thermosim demo

test: setup
	$(PY) -m pytest -q

test-slow: setup
	$(PY) -m pytest -q -m slow

netlists: setup
	$(VENV)/bin/thermosim netlists

bench: setup
	$(VENV)/bin/thermosim bench engine

lint: setup
	$(VENV)/bin/ruff check thermosim tests examples
	$(VENV)/bin/ruff format --check thermosim tests examples

clean:
	rm -rf $(VENV) .pytest_cache
