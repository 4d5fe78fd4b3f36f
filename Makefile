# One task runner. `make demo` and `make test` work on a fresh machine with nothing installed by hand.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint format bench train browser clean

setup: $(STAMP)

# constraints.txt pins torch to the CPU wheel (an unpinned torch pulls a multi-GB CUDA build).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/reportgen build --config configs/demo.yaml --force

# Browser tests need Debian's chromium; install it when missing (as root, or through sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: setup browser
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff check reportgen tests
	$(VENV)/bin/ruff format --check reportgen tests

format: setup
	$(VENV)/bin/ruff format reportgen tests
	$(VENV)/bin/ruff check --fix reportgen tests

train: setup
	$(PY) -m reportgen.demo.train

bench: setup
	$(PY) benchmarks/bench_render.py

clean:
	rm -rf build site/*/ site/index.html site/assets
