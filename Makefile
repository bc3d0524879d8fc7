# Two commands set up a fresh machine (python3, gcc, make): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
SNNGEN  = $(VENV)/bin/snngen
STAMP   = $(VENV)/.installed-stamp
CONFIG ?= configs/default.toml
OUT    ?= runs

.PHONY: setup run test test-slow bench bench-synth clean

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

bench: setup
	$(PY) bench/golden_speed.py
	$(PY) bench/ablation.py
	$(PY) bench/forward_cycles.py
	$(PY) bench/schedule.py
	$(PY) bench/sim_speed.py

# yosys + nextpnr of the up5k and ecp5 configs (cached in build/synth/; the first run of the
# ECP5 core takes tens of minutes) against the PyTorch CPU baseline.
bench-synth: setup
	$(PY) bench/synth.py

clean:
	rm -rf $(OUT) build sim_build .pytest_cache .hypothesis
