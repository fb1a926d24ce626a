# dicomkit developer commands. Run from the repository root.
#
#   make run     set up .venv (all extras + dev group) and run `dicomkit demo`
#   make test    set up .venv, install DICOM peer tools, lint, type-check, import contracts, pytest
#   make lint    ruff check, ruff format --check, mypy, lint-imports
#   make format  apply ruff fixes and formatting
#   make bench   run benchmarks/run_all.py
#   make bench-scale  the archive's 1,000,000-instance scale benchmark (an hour or more)
#   make clean   remove caches, build output and the demo sample (keeps .venv)
#   make distclean  clean, and remove .venv too

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# Steps must run in the written order even under `make -j`.
.NOTPARALLEL:
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENV_PY := $(BIN)/python
# Re-running pip is skipped while this stamp is newer than pyproject.toml.
STAMP := $(VENV)/.dicomkit-installed

# Only the folders that exist (git does not keep empty ones).
LINT_PATHS := $(wildcard src tests tools benchmarks)
PYTEST_ARGS ?=

# DICOM peer tools used by the interop tests: command -> Debian package.
PEER_TOOLS := dcmdump:dcmtk dciodvfy:dicom3tools dcm2niix:dcm2niix

.PHONY: help venv peers run test lint format bench bench-scale clean distclean

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py src/dicomkit/codec/_scan.c
	@if ! $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
	  echo "error: $(PYTHON) is older than Python 3.11 (set PYTHON=python3.11 or newer)" >&2; exit 1; \
	fi
	@if [ ! -x $(VENV_PY) ]; then \
	  echo "==> creating $(VENV) with $$($(PYTHON) --version)"; \
	  rm -rf $(VENV); \
	  if ! $(PYTHON) -m venv $(VENV); then \
	    rm -rf $(VENV); \
	    echo "==> '$(PYTHON) -m venv' failed; installing Debian's python3-venv"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv; \
	    $(PYTHON) -m venv $(VENV); \
	  fi; \
	fi
	$(VENV_PY) -m pip install -q --progress-bar off --upgrade 'pip>=25.1'
	$(VENV_PY) -m pip install -q --progress-bar off -e '.[all]' --group dev
	@touch $@

# Install dcmtk / dicom3tools when their commands are missing. Never fatal: without them the interop
# tests skip with a reason, and this prints a loud warning.
peers:
	@missing=""; \
	for pair in $(PEER_TOOLS); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -z "$$missing" ]; then echo "==> DICOM peer tools present (dcmtk, dicom3tools, dcm2niix)"; exit 0; fi; \
	echo "==> installing DICOM peer tools:$$missing"; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	   && DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	   && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; then \
	  still=""; \
	  for pair in $(PEER_TOOLS); do command -v "$${pair%%:*}" >/dev/null 2>&1 || still="$$still $${pair%%:*}"; done; \
	  [ -z "$$still" ] && exit 0; \
	  missing="$$missing (installed, but still no:$$still)"; \
	fi; \
	{ echo; \
	  echo "**********************************************************************"; \
	  echo "WARNING: could not install DICOM peer tools:$$missing"; \
	  echo "WARNING: (needs root and a working apt-get). Interop tests that need them WILL SKIP."; \
	  echo "**********************************************************************"; \
	  echo; } >&2

run: venv
	$(BIN)/dicomkit demo

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: venv peers lint
	$(VENV_PY) -m pytest -n 2 $(PYTEST_ARGS)

format: venv
	$(BIN)/ruff check --fix $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

bench: venv peers
	$(VENV_PY) benchmarks/run_all.py

bench-scale: venv
	$(VENV_PY) benchmarks/bench_archive_scale.py

clean:
	rm -rf .dicomkit-sample build dist src/*.egg-info \
	  .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
