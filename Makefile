# `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SKLEARN_DWB_DATA ?= $(abspath ../shared/datasets)
export SKLEARN_DWB_DATA

.PHONY: install demo test clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m sklearn_dwb.demo

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
