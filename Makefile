# The README's two commands: `make demo` and `make test`. Both set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Every package the app, the tests and the bundle install: exact versions and PyPI's hashes, for
# Linux, Windows and macOS alike. `make lock` writes it again from pyproject.toml.
LOCK := requirements.lock
export QT_API := pyside6

.PHONY: setup test lint typecheck demo desktop-check bench bundle lock clean sdk-peer catalogs

# The venv holds exactly the lock: made anew when the lock changes, so a package the lock dropped
# does not linger. --require-hashes refuses any file whose hash the lock does not name (and any
# package it does not pin); the project itself goes in last, without its dependencies.
$(STAMP): $(LOCK) pyproject.toml
	rm -rf $(VENV)
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check merchant_desk tests bench packaging peer main.py

test: lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# Settings in pyproject.toml ([tool.mypy]: merchant_desk/).
typecheck: setup
	$(BIN)/mypy

# On a Linux machine without a display the window cannot open: say so, and show that the demo
# works by opening it offscreen once (the same check CI runs).
demo: desktop-check setup
	@if [ "$$(uname)" = Linux ] && [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -z "$$QT_QPA_PLATFORM" ]; then \
	  echo "No display here (DISPLAY is not set): opening the demo offscreen once instead."; \
	  echo "On a desktop, 'make demo' opens the window."; \
	  QT_QPA_PLATFORM=offscreen $(BIN)/merchant-desk gui --demo --smoke; \
	else \
	  $(BIN)/merchant-desk gui --demo; \
	fi

# A window on X11 (a display, and no Wayland session unless Qt is told xcb) needs the xcb helper
# libraries; on Debian and Ubuntu, ask dpkg and name what to install before Qt fails less clearly.
desktop-check:
	@if [ "$$(uname)" = Linux ] && command -v dpkg-query >/dev/null 2>&1 && \
	   { [ "$${QT_QPA_PLATFORM:-}" = xcb ] || \
	     { [ -n "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ] && [ -z "$${QT_QPA_PLATFORM:-}" ]; }; }; then \
	  missing=$$(sh packaging/debian_packages.sh missing x11); \
	  if [ -n "$$missing" ]; then \
	    echo "The window needs system libraries that are not installed: $$missing"; \
	    echo "Install them, then run 'make demo' again:"; \
	    echo "    sudo apt-get install $$missing"; \
	    exit 1; \
	  fi; \
	fi

bench: setup
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The official Amazon Pay Node.js SDK's own integration tests against `sandbox serve --tls`
# (needs npm; the SDK comes from the npm registry at the version peer/node-sdk pins).
sdk-peer: setup
	$(BIN)/python peer/node_sdk.py

# PyInstaller comes from the lock like everything else: the same commit bundles the same libraries.
bundle: setup
	$(BIN)/python packaging/build.py

# Update the lock (needs uv: `pip install uv`): after changing dependencies in pyproject.toml, or
# to take newer releases (`make lock UPGRADE=--upgrade`). One resolution for every OS and Python
# 3.11+; setuptools is named because `make setup` builds the project without network access.
UV ?= uv
UPGRADE ?=
lock:
	printf 'setuptools>=70.1\n' | $(UV) pip compile pyproject.toml - --extra test --extra bundle \
	  --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" $(UPGRADE) -o $(LOCK)

# After changing a text the operator reads: extract the template, merge it into each language's
# catalog, then (once every new entry is translated) compile the .mo files the app reads.
catalogs: setup
	$(BIN)/pybabel extract -F babel.cfg -c TRANSLATORS: --add-location=file --width=100 -o merchant_desk/locale/merchant_desk.pot .
	$(BIN)/pybabel update -i merchant_desk/locale/merchant_desk.pot -d merchant_desk/locale -D merchant_desk --width=100 --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d merchant_desk/locale -D merchant_desk --statistics

clean:
	rm -rf build dist .pytest_cache .ruff_cache .mypy_cache
