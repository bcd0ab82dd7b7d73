# Pipeline Lab developer commands. Only a system python3 is needed: the first target you run
# creates .venv and installs the package with its dev extras; later runs reuse it.
#
#   make demo    run the example pipeline headless and show the result
#   make test    import layers, lint, then the whole test suite
#   make lab     open example_notebooks/ in JupyterLab
#   make bench   run every benchmark in bench/

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# Jupyter refuses to start as root unless told to (CI and containers run as root). Kept apart
# from LAB_ARGS, so `make lab LAB_ARGS=...` (which replaces LAB_ARGS) keeps it.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root,)

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help install demo test lint lab bench clean distclean

help:
	@echo "make demo       run the example pipeline (creates $(VENV) and installs on first use)"
	@echo "make test       lint-imports + ruff + mypy, then the whole test suite"
	@echo "make lab        JupyterLab on example_notebooks/ (extra options: LAB_ARGS=...)"
	@echo "make bench      run every benchmark in bench/"
	@echo "make lint       lint-imports + ruff + mypy only"
	@echo "make clean      remove caches and example output"
	@echo "make distclean  clean, and remove $(VENV)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the dependencies may have changed.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "installing Pipeline Lab and its dependencies into $(VENV) (first run, or pyproject.toml changed; 1-2 minutes)"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pipeline-lab demo

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check pipeline_lab tests $(wildcard bench)
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=example_notebooks $(ROOT_ARGS) $(LAB_ARGS)

bench: $(STAMP)
	@set -e; found=0; \
	for script in bench/*.py; do \
		[ -f "$$script" ] || continue; \
		found=1; echo "== $$script"; $(BIN)/python "$$script"; \
	done; \
	[ "$$found" = 1 ] || echo "no benchmarks in bench/ yet"

clean:
	rm -rf .pytest_cache .ruff_cache .mypy_cache .import_linter_cache build dist \
		example_notebooks/output bench/.data
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
