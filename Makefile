# One task runner. `make demo` and `make test` work on a fresh machine with nothing installed by hand.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast test-wheel fuzz lint format bench train browser clean

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

# The package as users install it: a wheel in a fresh venv, used from an empty folder outside the checkout.
test-wheel: setup
	PYTHON=$(PYTHON) bash tests/wheel/check.sh

# The property tests with many more examples than `make test` runs (the "thorough" profile, minutes).
fuzz: setup
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest tests/test_config_fuzz.py tests/test_results_fuzz.py

test-fast: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff check reportgen tests
	$(VENV)/bin/ruff format --check reportgen tests
	$(VENV)/bin/mypy  # all of reportgen/ ([tool.mypy] in pyproject.toml)

format: setup
	$(VENV)/bin/ruff format reportgen tests
	$(VENV)/bin/ruff check --fix reportgen tests

train: setup
	$(PY) -m reportgen.demo.train

# The text demo's transformer and its held-out files (configs/text/): about 2 minutes.
.PHONY: train-text
train-text: setup
	$(PY) -m reportgen.demo.train_text

bench: setup
	$(PY) benchmarks/bench_backends.py
	$(PY) benchmarks/bench_repeatability.py
	$(PY) benchmarks/bench_render.py

clean:
	rm -rf build site/*/ site/index.html site/assets

# Ultralytics checkpoints (`model.source: ultralytics`) are tested in their own environment: ultralytics
# needs torchvision, which pulls torch 2.14.1 (a ~5.5 GB CUDA build), while the default install keeps
# torch 2.13.0+cpu. The environment is made as a team's would be: its torch first, then reportgen
# installed the way a user does (with its dependencies, no --no-deps), which must keep that torch
# (pyproject's torch is a range); pip check proves the result consistent.
UVENV ?= .venv-ultralytics
UPY := $(UVENV)/bin/python
USTAMP := $(UVENV)/.installed

.PHONY: setup-ultralytics test-ultralytics train-ultralytics

setup-ultralytics: $(USTAMP)

$(USTAMP): pyproject.toml constraints.txt constraints-ultralytics.txt
	$(PYTHON) -m venv $(UVENV)
	$(UPY) -m pip install --quiet --upgrade pip
	grep -v '^torch==' constraints.txt | cat - constraints-ultralytics.txt > $(UVENV)/constraints.txt
	$(UPY) -m pip install --quiet -c $(UVENV)/constraints.txt torch torchvision
	# reportgen's install is not told the torch version: it must keep the one installed.
	grep -v '^torch==' $(UVENV)/constraints.txt > $(UVENV)/constraints-reportgen.txt
	$(UPY) -m pip install --quiet -c $(UVENV)/constraints-reportgen.txt -e '.[dev,ultralytics]'
	$(UPY) -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.14.1') else f'torch {torch.__version__} replaced 2.14.1')"
	$(UPY) -m pip check
	touch $(USTAMP)

test-ultralytics: setup-ultralytics
	$(UPY) -m pytest tests/ultralytics

train-ultralytics: setup-ultralytics
	$(UPY) -m reportgen.demo.train_ultralytics
