# iqtibas: `make chat` and `make test` set everything up themselves, idempotently.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
# The pinned CPU build; an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: setup model index chat test eval bench docs clean

setup: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

model: setup
	$(BIN)/iqtibas model build

index: model
	$(BIN)/iqtibas index build --if-stale

chat: index
	$(BIN)/iqtibas chat

test: model
	$(BIN)/python -m pytest

eval: index
	$(BIN)/iqtibas eval

bench: index
	$(BIN)/python benchmarks/bench.py

docs: setup
	$(BIN)/python docs/cli_reference.py

clean:
	rm -rf $(VENV) models data/index
