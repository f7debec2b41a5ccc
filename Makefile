# The two commands a new user needs:  make demo  (set up, ingest corpus/, answer three questions)
#                                     make test  (set up, run the test suite)
PYTHON ?= python3
# Extra pip arguments for torch. Here its CPU wheel lies on the machine's disk; elsewhere, to avoid
# PyPI's CUDA build:  make demo TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

# torch is installed first and pinned: its CPU wheel lies on this machine's disk, while an
# unpinned install (or one pulled in by sentence-transformers) fetches a multi-GB CUDA build.
# pip installs without compiling bytecode (it compiles one file at a time: ~50 s here), then compileall does it on
# every core for all but the packages only the ONNX export and BULLETIN_BOT_ENCODER=torch import (torch,
# transformers, sympy, networkx, scikit-learn: Python compiles those when, if ever, they are imported).
# The last step makes the ONNX export the default encoder runs (once per model: it lands in the cache keyed by
# the model's checksum, ~/.cache/bulletin-bot/onnx or $$BULLETIN_BOT_ONNX_DIR, and a later clone finds it there).
NOT_PRECOMPILED := /(torch|torchgen|functorch|transformers|sympy|networkx|sklearn)/
PIP := $(BIN)/pip install --quiet --disable-pip-version-check --no-compile
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0 $(TORCH_PIP_ARGS)
	$(PIP) -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 -x '$(NOT_PRECOMPILED)' $(VENV)/lib >/dev/null
	$(BIN)/bulletin-bot export-onnx
	touch $(STAMP)

install: $(STAMP)

# The test suite and the benchmarks import torch (the torch backend, the peers): their bytecode too, once.
BYTECODE := $(VENV)/.bytecode-stamp
# A speed-up only: a file written for a newer Python (torch's testing/_internal/py312_intrinsics.py) fails to
# compile here and is no reason to stop, so its exit status is not the step's.
$(BYTECODE): $(STAMP)
	-$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1
	touch $(BYTECODE)

demo: install
	$(BIN)/bulletin-bot ingest corpus/
	$(BIN)/bulletin-bot ask "what fine did the school in Nantong get"
	$(BIN)/bulletin-bot ask "how big were the DMA fines on apple and meta"
	$(BIN)/bulletin-bot ask "who do PIMS providers apply to for recognition in germany?"

test: install $(BYTECODE)
	$(BIN)/python -m pytest -q -p no:cacheprovider

# ruff over the repository, mypy over retrieval/ and bot/ (their settings are in pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install $(BYTECODE)
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_query.py
	$(BIN)/python benchmarks/bench_encoder.py
	$(BIN)/python benchmarks/bench_peers.py

clean:
	rm -rf $(VENV) data
