# The README's two commands: `make demo` and `make test`. Both set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export QT_API := pyside6

.PHONY: setup test lint demo bench bundle clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

lint: setup
	$(BIN)/ruff check merchant_desk tests bench packaging main.py

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# On a Linux machine without a display the window cannot open: say so, and show that the demo
# works by opening it offscreen once (the same check CI runs).
demo: setup
	@if [ "$$(uname)" = Linux ] && [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -z "$$QT_QPA_PLATFORM" ]; then \
	  echo "No display here (DISPLAY is not set): opening the demo offscreen once instead."; \
	  echo "On a desktop, 'make demo' opens the window."; \
	  QT_QPA_PLATFORM=offscreen $(BIN)/merchant-desk gui --demo --smoke; \
	else \
	  $(BIN)/merchant-desk gui --demo; \
	fi

bench: setup
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

bundle: setup
	$(BIN)/python -m pip install -q -e '.[bundle]'
	$(BIN)/python packaging/build.py

clean:
	rm -rf build dist .pytest_cache .ruff_cache
