# Two commands set up a fresh machine (python3, gcc, make): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
SNNGEN  = $(VENV)/bin/snngen
STAMP   = $(VENV)/.installed-stamp
CONFIG ?= configs/default.toml
OUT    ?= runs

.PHONY: setup run test test-slow bench bench-sweep bench-synth report clean

# torch==2.13.0 first: it is the CPU build; an unpinned torch pulls gigabytes of CUDA.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

# The main job on the default config: train the fixed-point (hardware) and float golden models
# on digits, generate the core, and train a few samples through it (Verilator) next to the
# golden model, every sample checked bit- and cycle-exact.
run: setup
	$(SNNGEN) train $(CONFIG) --model fixed --json $(OUT)/fixed.json --plot $(OUT)/fixed.png
	$(SNNGEN) train $(CONFIG) --model float --json $(OUT)/float.json --plot $(OUT)/float.png
	$(SNNGEN) generate $(CONFIG) -o $(OUT)/core
	$(SNNGEN) train $(CONFIG) --model rtl --samples 20 --test 20 --json $(OUT)/rtl.json

# Default tier (fast). pytest's exit 5 ("no tests ran") is turned into a failure.
test: setup
	$(PY) -m pytest -n 2 -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests ran (empty selection)"; exit 1; fi; exit $$rc

test-slow: setup
	$(PY) -m pytest -q -m slow; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-slow: no tests ran"; exit 1; fi; exit $$rc

# Every benchmark but the long ones (ablation, dse), then the headline figures; see
# `snngen bench --help`. Synthesis results are cached in build/synth/.
bench: setup
	$(SNNGEN) bench

# The design-space sweep (24 points of the tiny network: yosys, timing model, accuracy) on a
# 2-worker Dask LocalCluster; SCHEDULER=tcp://host:8786 runs it on a real cluster.
bench-sweep: setup
	$(SNNGEN) bench dse $(if $(SCHEDULER),--scheduler $(SCHEDULER))

# One self-contained HTML page with the figures and plots of CONFIG (from bench/results/).
report: setup
	$(SNNGEN) report $(CONFIG) -o $(OUT)/report.html

# yosys + nextpnr of the up5k and ecp5 configs (cached in build/synth/; the first run of the
# ECP5 core takes tens of minutes) against the PyTorch CPU baseline.
bench-synth: setup
	$(PY) bench/synth.py

clean:
	rm -rf $(OUT) build sim_build .pytest_cache .hypothesis
