"""The protocol fuzzer against the whole generated core under Verilator and cocotb
(sim/tests/fuzz_tb.py): random valid and malformed commands, idle cycles and back-pressure,
every reply and the tracked memories against the reference model; and a deliberately wrong
reference is caught."""

import functools

import pytest

from rtl_gen.config import load_config
from rtl_gen.protocol import Err
from sim.regress import build_core, run_core


def fuzz_cfg():
    """``tiny`` shrunk so that full readbacks and runs are cheap: an 8-6-3 network, T = 2, in
    a core of 4 lanes, at most 3 weight layers of width 8 and 4 steps, 128 weight words."""
    return load_config("tiny").replace(
        network={"layers": [8, 6, 3], "timesteps": 2},
        hardware={"max_width": 8, "max_layers": 3, "weight_words": 128, "neuron_words": 16,
                  "max_timesteps": 4})


@functools.cache
def _build():
    return build_core(fuzz_cfg())  # generated and checked once per session, built once


def _fuzz(n, seed, flaw=None, idle=0.2, backpressure=0.3, **extra):
    cfg = fuzz_cfg()
    return run_core(cfg, [], seed=seed, idle=idle, backpressure=backpressure, observe=False,
                    sim=_build(), test_module="sim.tests.fuzz_tb", check=False, timeout=1800,
                    extra={"n": n, "every": 50, "flaw": flaw, **extra})


def _check_figures(r, n):
    assert r.passed, r.message
    rep = r.report
    print(f"fuzz: {rep['commands']} commands ({n} fuzzer), statuses {rep['statuses']}, "
          f"{rep['runs']} runs ({rep['trains']} train, {rep['runs_other_program']} of random "
          f"programs, longest {rep['max_run_cycles']} cycles), {rep['readbacks']} full readbacks "
          f"{rep['readbacks_by_reason']}, {rep['readback_commands']} readback commands, "
          f"{rep['sim_cycles']} cycles, {rep['seconds']:.1f} s")
    assert rep["commands"] >= n and rep["fuzz_commands"] == n
    missing = {e.name for e in Err} - set(rep["statuses"])
    assert not missing, f"statuses never produced: {missing}"
    assert rep["runs"] > 0 and rep["trains"] > 0 and rep["infers"] > 0
    assert rep["runs_other_program"] > 0
    assert rep["readbacks"] >= n // 50


def test_fuzz_whole_core():
    _check_figures(_fuzz(2000, seed=1), 2000)


@pytest.mark.slow
def test_fuzz_whole_core_long():
    _check_figures(_fuzz(10000, seed=2), 10000)


@pytest.mark.parametrize("flaw, seed, says", [
    # the core rejects the write whole; the next comparison finds the words the model wrote
    ("accept_rejected_write", 3, "differs from the reference at"),
    # the model keeps the old sticky error; the STATUS after the error shows the core's
    ("stale_error", 4, "STATUS answered"),
])
def test_fuzz_catches_a_wrong_reference(flaw, seed, says):
    """A reference wrong in one respect fails the run with a message naming the difference
    and the last commands."""
    r = _fuzz(400, seed=seed, flaw=flaw)
    assert not r.passed
    assert says in r.message and f"seed {seed}: " in r.message, r.message
    assert "last commands:" in r.message, r.message


def test_fuzz_missing_reply_fails():
    """A reply that does not come in time fails the run, it does not hang it: with replies
    allowed 1 + 8 cycles the first TRAIN (about 70 cycles) times out."""
    r = _fuzz(50, seed=5, run_limit=1, slack=8)
    assert not r.passed
    assert "command #6 (train)" in r.message and "no reply header within 9 cycles" in r.message, \
        r.message
