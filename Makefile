# iqtibas: `make chat` and `make test` set everything up themselves, idempotently.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
# The pinned CPU build; an unpinned torch pulls a multi-GB CUDA build.
TORCH := torch==2.13.0
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: setup model index chat test eval bench docs clean

setup: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# optimum-intel (the OpenVINO backend) requires torchvision although text models never use it;
# PyPI's torchvision is built against another torch and breaks importing transformers beside
# this one ("operator torchvision::nms does not exist"), so it is removed right after and the
# imports are checked.
$(INSTALLED): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) uninstall --quiet --yes torchvision
	$(BIN)/python -c 'import transformers, sentence_transformers, optimum.intel'
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
	$(BIN)/iqtibas eval --split test

bench: index
	$(BIN)/python benchmarks/bench.py

docs: setup
	$(BIN)/python docs/cli_reference.py

clean:
	rm -rf $(VENV) models data/index
