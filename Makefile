# `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SKLEARN_DWB_DATA ?= $(abspath ../shared/datasets)
export SKLEARN_DWB_DATA

.PHONY: install benchmark-install demo test lint docs dist clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	$(ERROR_PARITY)
	touch $@

# error-parity pins numpy<2, under which this project's numpy does not fall:
# it is installed without its dependencies (cvxpy comes from the extras).
ERROR_PARITY = $(PY) -m pip install --quiet --no-deps -c constraints.txt error-parity

install: $(VENV)/.installed

# what the benchmark scripts need beyond the package (benchmarks/).
$(VENV)/.benchmark-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e ".[benchmark]"
	$(ERROR_PARITY)
	touch $@

benchmark-install: $(VENV)/.benchmark-installed

$(VENV)/.lint-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e ".[lint]"
	touch $@

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e ".[docs,release]"
	touch $@

demo: install
	$(PY) -m sklearn_dwb.demo

test: install
	$(PY) -m pytest

# ruff's lint rules and formatting (configured in pyproject.toml).
lint: $(VENV)/.lint-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# HTML documentation, warnings as errors; the gallery executes examples/.
docs: $(VENV)/.docs-installed
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

# sdist and wheel in dist/, checked by twine.
dist: $(VENV)/.docs-installed
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build docs/generated docs/auto_examples
