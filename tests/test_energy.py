"""The energy model (golden/energy.py): the published per-operation figures and the scaling
rules, a hand-computed example, the phases' cycles against the timing model, the counts
recovered from the RTL's counters (pure and through the Verilator core), the dense and ANN
variants and the benchmark's library function.
The Verilator side is sim/tests/energy_tb.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from golden.energy import (FORWARD_PHASES, HOROWITZ_45NM, PHASES, EnergyTable, LayerLoad,
                           activity, ann_activity, ann_cycles, energy, layer_loads,
                           loads_from_rtl, mean_loads, measure_energy, memories, widths)
from golden.timing import (DELTA_STAGES, PASS_STAGES, UPDATE_OVERHEAD, SampleCounts,
                           forward_overhead, infer_timing, train_timing)
from rtl_gen.config import load_config
from rtl_gen.memory_map import MemoryMap

#: One unit per bit: 0.1 pJ per adder bit, per multiplier bit x bit and per memory bit read
#: or written, whatever the memory's size (one point and no slope). Makes pJ hand-countable.
UNIT = EnergyTable(name="0.1 pJ per bit", add_pj=3.2, add_bits=32, mult_pj=0.1, mult_bits=1,
                   sram_bits=1, sram_pj=((1.0, 0.1),))


def _small():
    """4-3-2 on 2 lanes, T = 2, 8-bit weights Q(8, 6) and values Q(8, 4)."""
    return load_config("tiny").replace(
        network={"layers": [4, 3, 2], "timesteps": 2},
        fixed={"w_bits": 8, "w_frac": 6, "v_bits": 8, "v_frac": 4, "recip_bits": 8},
        hardware={"lanes": 2, "max_width": 4, "max_layers": 2, "weight_words": 32,
                  "neuron_words": 8, "max_timesteps": 2})


def _random_counts(mm, rng, train=True):
    """Admissible counts: events <= fan-in, nz <= groups, touched the groups ever nonzero."""
    K, T = mm.n_weight_layers, mm.timesteps
    ev = np.array([[rng.integers(0, mm.fan_in(l) + 1) * (rng.random() > 0.2)
                    for _ in range(T)] for l in range(K)], dtype=np.int64)
    if not train:
        return SampleCounts(ev)
    nz = np.array([[rng.integers(0, mm.groups(l) + 1) * (rng.random() > 0.3)
                    for _ in range(T)] for l in range(K)], dtype=np.int64)
    touched = np.array([min(mm.groups(l), nz[l].sum()) if nz[l].any() else 0
                        for l in range(K)], dtype=np.int64)
    touched = np.maximum(touched, nz.max(1))
    return SampleCounts(ev, nz, touched)


# ---- the table -------------------------------------------------------------------------------

def test_horowitz_table_gives_the_published_45nm_figures():
    t = HOROWITZ_45NM
    # M. Horowitz, ISSCC 2014: 32-bit add 0.1 pJ, 32-bit multiply 3.1 pJ, 64-bit reads from
    # 8 kB / 32 kB / 1 MB of SRAM 10 / 20 / 100 pJ
    assert t.add(32) == pytest.approx(0.1)
    assert t.mult(32, 32) == pytest.approx(3.1)
    for size, pj in ((8 << 10, 10.0), (32 << 10, 20.0), (1 << 20, 100.0)):
        assert t.read(64, size) == pytest.approx(pj)
        assert t.write(64, size) == pytest.approx(pj)  # write = read
    # the scaling rules at 8 bits, against the published 0.03 and 0.2 pJ: -17 % and -3 %
    assert t.add(8) == pytest.approx(0.025) and t.mult(8, 8) == pytest.approx(0.19375)


def test_scaling_rules():
    t = HOROWITZ_45NM
    assert t.add(16) == pytest.approx(t.add(32) / 2)  # linear in bits
    assert t.mult(16, 16) == pytest.approx(t.mult(32, 32) / 4)  # quadratic
    assert t.mult(8, 24) == pytest.approx(t.mult(24, 8))
    # below 8 kB the 8 kB - 32 kB slope goes on: a quarter of the size, half the energy
    assert t.sram_bit(2 << 10) == pytest.approx(t.sram_bit(8 << 10) / 2)
    # between the points: log-log interpolation, monotone
    sizes = [2 ** k for k in range(4, 24)]
    e = [t.sram_bit(s) for s in sizes]
    assert all(a < b for a, b in zip(e, e[1:]))
    assert t.sram_bit(16 << 10) == pytest.approx(math.sqrt(10 * 20) / 64)
    # the table is replaceable: another technology, another result, same counts
    a = activity(_small(), [LayerLoad(3, 0, 0, 0, 2), LayerLoad(1, 1, 1, 1, 1)])
    twice = EnergyTable(name="x2", add_pj=0.2, mult_pj=6.2,
                        sram_pj=tuple((s, 2 * p) for s, p in HOROWITZ_45NM.sram_pj))
    assert energy(a, twice)["pj"] == pytest.approx(2 * energy(a)["pj"])


def test_widths_and_memories_are_the_engines():
    from rtl_gen.engine import acc_bits
    for name in ("tiny", "default", "up5k", "ecp5"):
        cfg = load_config(name)
        wd, mm = widths(cfg), MemoryMap.of(cfg)
        assert wd.acc == acc_bits(cfg)
        mems = memories(cfg)
        assert mems["weights"].depth * mems["weights"].banks == cfg.hardware.weight_words
        assert mems["errors"].word_bits == cfg.fixed.v_bits * cfg.hardware.max_timesteps
        assert mems["membranes"].depth == mm.neuron_capacity
        assert memories(cfg, ann=True)["errors"].word_bits == cfg.fixed.v_bits


# ---- a hand-computed example ----------------------------------------------------------------

def test_hand_computed_example():
    """4-3-2, 2 lanes, T = 2: layer 0 (LIF) has n_in 4 and G = 2 groups, layer 1 (readout)
    n_in 3 and G = 1. Widths: w = v = 8, a = 8 + ceil(log2(4 + 1)) = 11, row sum
    8 + ceil(log2(4 * 2 + 1)) + 1 = 13, threshold sum 8 + 3 + 1 = 12, gain sum 8 + 11 + 4 = 23,
    PASS accumulator 8 + 8 + 2 + 2 + 1 = 21, update gradient 8 + 1 + 1 = 10, update step
    max(10, 13 + 1) = 14, mean constant 8 + 1 = 9; the error word holds both steps (16 bits);
    frames 32 bits, the input spike vector 4 bits, counts 3 bits (as wide as max_width 4).

    Events into layer 0: 2 at t = 0, 1 at t = 1; into the readout 1, then 0. Readout groups
    with a nonzero error: 1 at t = 0, none at t = 1. Touched: both groups of layer 0, the
    readout's one. Leak 0.5 (one rounding add), soft reset, triangle surrogate of width 1 (no
    shift), centering and threshold learning on, w_frac 6 > v_frac 4."""
    cfg = _small()
    mm = MemoryMap.of(cfg)
    counts = SampleCounts(np.array([[2, 1], [1, 0]]), np.array([[1, 2], [1, 0]]),
                          np.array([2, 1]))
    loads = layer_loads(mm, counts)
    # layer 0: 3 events, no idle step, no PASS (first layer), 2 touched;
    # readout: 1 event, 1 idle step, 1 PASS group in 1 step, 1 touched
    assert loads == [LayerLoad(3, 0, 0, 0, 2), LayerLoad(1, 1, 1, 1, 1)]
    act = activity(cfg, loads)
    want = {
        # LOAD + START: 2 cycles per layer-step (4 layer-steps). Layer 0 only: frame word
        # (32 bits) read at each step; threshold and gain (8 bits) read at each step.
        "fwd_load": dict(cycles=8, ops={},
                         reads={"frames": [2, 64], "thresholds": [2, 16], "gains": [2, 16]},
                         writes={}),
        # ACC: rows = events x G = 3 x 2 + 1 x 1 = 7, plus the readout's idle cycle at t = 1
        # and a drain cycle per layer-step (4); per row 2 lanes: weight read (8), sum read,
        # add, write (11 bits each)
        "fwd_acc": dict(cycles=12, ops={("add", 11): 14},
                        reads={"weights": [14, 112], "acc": [14, 154]},
                        writes={"acc": [14, 154]}),
        # FIRE + 3-stage drain: (2 + 3) x 2 steps + (1 + 3) x 2 = 18 cycles. Neuron slots
        # T x G x lanes: 8 (LIF), 4 (readout). Every slot: sum read and cleared; a count word
        # per layer-step. LIF: membrane read and written, h and a (8 + 11 bits) written, a
        # spike bit written; a * g (8 x 11) and its rounding (19 bits), then five 8-bit adds:
        # leak, integrate, u_pre - vth, |x|, ONE - |x|. Readout: rounding (11), o written.
        "fwd_fire": dict(cycles=18,
                         ops={("mult", 8, 11): 8, ("add", 19): 8, ("add", 8): 40,
                              ("add", 11): 4},
                         reads={"acc": [12, 132], "membranes": [8, 64]},
                         writes={"acc": [12, 132], "counts": [4, 12], "membranes": [8, 64],
                                 "history": [8, 152], "spikes": [8, 8], "readout": [4, 32]}),
        # BSTART + DELTA + 7-stage drain: (1 + 2 + 7) x 2 + (1 + 1 + 7) x 2 = 38 cycles.
        # Readout, 4 slots: o read, e = o - target (8 bits), e written. LIF, 8 slots: ds, h|a
        # (19 bits) and the row sum (13) read; delta = ds h (8 x 8, rounding 16), sum delta
        # (12), sum delta a (8 x 11, 23), da = g delta (8 x 8, 16), row sum + da count (8 x 3,
        # 13); da and row sum written. Per step: threshold, gain (8), count (3) read.
        "bwd_delta": dict(cycles=38,
                          ops={("add", 8): 4, ("mult", 8, 8): 16, ("add", 16): 16,
                               ("add", 12): 8, ("mult", 8, 11): 8, ("add", 23): 8,
                               ("mult", 3, 8): 8, ("add", 13): 8},
                          reads={"readout": [4, 32], "thresholds": [2, 16],
                                 "gains": [2, 16], "counts": [2, 6], "ds": [8, 64],
                                 "history": [8, 152], "rowsums": [8, 104]},
                          writes={"errors": [12, 96], "rowsums": [8, 104]}),
        # BUPD: 1 cycle per layer-step. LIF, per step: -sum and its rounding (12 bits each),
        # vth - step (8); rounding of the gain sum (23), g - step (8); both written.
        "bwd_param": dict(cycles=4, ops={("add", 12): 4, ("add", 8): 4, ("add", 23): 2},
                          reads={}, writes={"thresholds": [2, 16], "gains": [2, 16]}),
        # PASS of the readout at t = 0 over its 1 nonzero group: 3 rows + 5 drain cycles.
        # Per row and lane: weight (8) and error word (16) read, da x w (8 x 8), adder tree
        # and accumulator (21). Per input: the rounding (21) and ds written (8).
        "bwd_pass": dict(cycles=8, ops={("mult", 8, 8): 6, ("add", 21): 9},
                         reads={"weights": [6, 48], "errors": [6, 96]},
                         writes={"ds": [3, 24]}),
        # Update set-up: 3 cycles per layer + 1 per touched group = 6 + 3. Per touched group
        # and lane: the error word (16) read; LIF: row sum read, mean = rs x R (13 x 9,
        # rounding 22), row sum cleared.
        "upd_group": dict(cycles=9, ops={("mult", 9, 13): 4, ("add", 22): 4},
                          reads={"errors": [6, 96], "rowsums": [4, 52]},
                          writes={"rowsums": [4, 52]}),
        # Update rows: 2 groups x 4 inputs + 1 x 3 = 11 (22 lane slots). Per slot: weight read
        # and written, sum_t s da (T - 1 = 1 add of 10), rounding of the step (14), w - step
        # (8); LIF slots (16) also subtract the mean (14). Per row: one spike-history word of
        # T_max = 2 bits (the frame registers for layer 0, the LIF spike memory for the
        # readout).
        "upd_row": dict(cycles=11, ops={("add", 10): 22, ("add", 14): 38, ("add", 8): 22},
                        reads={"weights": [22, 176], "frames": [8, 16],
                               "spikes": [3, 6]},
                        writes={"weights": [22, 176]}),
    }
    assert list(act.phases) == list(want)
    for name, w in want.items():
        p = act.phases[name]
        assert p.cycles == w["cycles"], name
        assert p.ops == w["ops"], name
        assert p.reads == w["reads"], name
        assert p.writes == w["writes"], name
    # the timing model's engine counters
    assert act.engine_cycles() == {"forward": 38, "backward": 50, "update": 20}
    rt = train_timing(mm, counts, "serial")
    assert (rt.forward, rt.backward, rt.update) == (38, 50, 20)
    # pJ at 0.1 per bit: the sum over the phase of adder bits, multiplier bit products and
    # memory bits, e.g. fwd_acc: 14 x 11 (adds) + 112 + 154 + 154 (memory) = 574 -> 57.4 pJ
    units = {"fwd_load": 64 + 16 + 16,
             "fwd_acc": 14 * 11 + 112 + 154 + 154,
             "fwd_fire": 8 * 88 + 8 * 19 + 40 * 8 + 4 * 11 + 132 + 64 + 132 + 12 + 64 + 152
             + 8 + 32,
             "bwd_delta": 4 * 8 + 16 * 64 + 16 * 16 + 8 * 12 + 8 * 88 + 8 * 23 + 8 * 24
             + 8 * 13 + 32 + 16 + 16 + 6 + 64 + 152 + 104 + 96 + 104,
             "bwd_param": 4 * 12 + 4 * 8 + 2 * 23 + 16 + 16,
             "bwd_pass": 6 * 64 + 9 * 21 + 48 + 96 + 24,
             "upd_group": 4 * 117 + 4 * 22 + 96 + 52 + 52,
             "upd_row": 22 * 10 + 38 * 14 + 22 * 8 + 176 + 16 + 6 + 176}
    assert units == {"fwd_load": 96, "fwd_acc": 574, "fwd_fire": 1816, "bwd_delta": 3182,
                     "bwd_param": 158, "bwd_pass": 741, "upd_group": 756, "upd_row": 1302}
    e = energy(act, UNIT)
    # float: 0.1 is not a binary fraction, so equal to rounding
    for name, u in units.items():
        assert e["phases"][name] == pytest.approx(u / 10, rel=1e-12), name
    assert e["pj"] == pytest.approx(862.5, rel=1e-12)
    assert e["engines"]["forward"] == pytest.approx(248.6, rel=1e-12)
    # an inference of the same events: the forward phases alone, the same counts
    inf = activity(cfg, layer_loads(mm, SampleCounts(counts.events)), train=False)
    assert list(inf.phases) == list(FORWARD_PHASES)
    assert energy(inf, UNIT)["pj"] == pytest.approx((96 + 574 + 1816) / 10, rel=1e-12)


# ---- the cycle structure -----------------------------------------------------------------------

CONFIGS = {
    "tiny": {}, "default": {}, "ecp5": {},
    # two LIF layers, lanes not dividing the sizes, hard reset, no centering, rectangle
    "deep": dict(network={"layers": [30, 17, 9, 6], "timesteps": 3, "reset": "hard",
                          "leak": 0.75, "weight_centering": False, "surrogate": "rectangle",
                          "surrogate_width": 2.0},
                 fixed={"w_bits": 10, "w_frac": 7, "v_bits": 12, "v_frac": 6},
                 hardware={"lanes": 5, "weight_words": 65536, "neuron_words": 4096,
                           "max_timesteps": 16, "max_width": 128, "max_layers": 3}),
}


def _cfg(name):
    over = CONFIGS[name]
    return load_config("tiny").replace(**over) if name == "deep" else load_config(name)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_phase_cycles_are_the_timing_models(name):
    """Every phase's cycles come from the timing model's structure: their sums per engine
    equal the engine counters of train_timing / infer_timing (event-driven and dense)."""
    cfg = _cfg(name)
    mm = MemoryMap.of(cfg)
    rng = np.random.default_rng(3)
    for _ in range(20):
        c = _random_counts(mm, rng)
        for dense in (False, True):
            rt = train_timing(mm, c, "dense" if dense else "serial")
            got = activity(cfg, layer_loads(mm, c, dense)).engine_cycles()
            assert got == {"forward": rt.forward, "backward": rt.backward, "update": rt.update}
            it = infer_timing(mm, c.events, dense)
            got = activity(cfg, layer_loads(mm, SampleCounts(c.events), dense),
                           train=False).engine_cycles()
            assert got == {"forward": it.forward, "backward": 0, "update": 0}


@pytest.mark.parametrize("name", ["tiny", "default", "ecp5"])
def test_loads_from_the_counters_are_the_golden_loads(name):
    """The per-layer loads recovered from the four counters and the event counts alone
    (what the RTL reports) equal those of the counts, in every schedule."""
    cfg = _cfg(name)
    mm = MemoryMap.of(cfg)
    rng = np.random.default_rng(5)
    for _ in range(30):
        c = _random_counts(mm, rng)
        for sched in ("serial", "dual", "dense"):
            dense = sched == "dense"
            rt = train_timing(mm, c, sched)
            assert loads_from_rtl(mm, rt.counters(), c.events, dense=dense) == \
                layer_loads(mm, c, dense)
        it = infer_timing(mm, c.events)
        assert loads_from_rtl(mm, it.counters(), c.events, train=False) == \
            layer_loads(mm, SampleCounts(c.events))


def test_counters_that_do_not_add_up_are_refused():
    cfg = load_config("tiny")
    mm = MemoryMap.of(cfg)
    c = _random_counts(mm, np.random.default_rng(1))
    ctr = train_timing(mm, c, "serial").counters()
    with pytest.raises(ValueError, match="forward counter"):
        loads_from_rtl(mm, {**ctr, "forward": ctr["forward"] + 1}, c.events)
    with pytest.raises(ValueError, match="no touched-group split"):
        loads_from_rtl(mm, {**ctr, "update": ctr["update"] + 1}, c.events)
    # two PASS layers (n_in 17 and 9, 2 groups each, T = 3; PASS_STAGES = 5 drain cycles per
    # step with a PASS): 67 PASS cycles are 2 middle-layer groups in 1 step and 2 readout
    # groups over 2 steps (17 x 2 + 5 + 9 x 2 + 5 x 2), or 2 middle-layer groups over 2 steps
    # and 2 readout groups in 1 step (17 x 2 + 5 x 2 + 9 x 2 + 5): the counters cannot tell
    # them apart
    deep = MemoryMap.of(_cfg("deep"))
    c = SampleCounts(np.ones((3, 3), dtype=np.int64), np.zeros((3, 3), dtype=np.int64),
                     np.zeros(3, dtype=np.int64))
    ctr = train_timing(deep, c, "serial").counters()
    assert loads_from_rtl(deep, ctr, c.events)[1:] == [LayerLoad(3, 0, 0, 0, 0)] * 2
    bump = {**ctr, "backward": ctr["backward"] + 67}
    with pytest.raises(ValueError, match="several decompositions"):
        loads_from_rtl(deep, bump, c.events)


# ---- through the Verilator core -------------------------------------------------------------

def test_counts_reconcile_with_the_rtl():
    """A few digits through the tiny core (Verilator): from each run's cycle counters and
    event counts (read back over the host protocol), :func:`loads_from_rtl` recovers the
    loads the golden model gives for the same sample; the energy model's phases then
    account for every counted cycle, e.g. its forward weight-row reads are the forward
    counter minus the data-independent cycles, its update row reads and writes the update
    counter minus the set-up cycles. What this covers: the number of row and group cycles
    of every phase. The content of a cycle (its reads, writes and operations) is the model's
    reading of rtl_gen/engine.py, checked by the hand-computed example above."""
    from golden.data import load_dataset
    from golden.fixed_model import fixed_learner
    from golden.timing import input_event_counts, sample_counts
    from golden.train import TEST_STREAM, encode_split, epoch_samples
    from sim.regress import run_core

    cfg = load_config("tiny")
    n_train, n_inf = 4, 2
    r = run_core(cfg, [], test_module="sim.tests.energy_tb", observe=False, readback=False,
                 check=False, extra={"samples": n_train, "inferences": n_inf})
    assert r.passed, r.message
    runs = r.report["runs"]
    assert len(runs) == n_train + n_inf
    mm = MemoryMap.of(cfg)
    L, T, K = mm.lanes, mm.timesteps, mm.n_weight_layers
    G = [mm.groups(l) for l in range(K)]
    # the golden model on the same samples
    data = load_dataset(cfg)
    learner = fixed_learner(cfg)
    _, frames, labels, shifts = next(epoch_samples(cfg, data, 1))
    golden = []
    for i in range(n_train):
        tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
        golden.append(sample_counts(mm, frames[i], tr, g))
    test = encode_split(cfg, data.test_x[:n_inf], TEST_STREAM)
    trace = learner.infer(test)
    golden += [SampleCounts(input_event_counts(test[i], trace, i)) for i in range(n_inf)]
    for i, (run, gc) in enumerate(zip(runs, golden)):
        train = i < n_train
        ctr, events = run["counters"], np.array(run["counts"])
        assert np.array_equal(events, gc.events)
        loads = loads_from_rtl(mm, ctr, events, train=train,
                               dense=cfg.hardware.schedule == "dense")
        assert loads == layer_loads(mm, gc), f"run {i}"
        act = activity(cfg, loads, train=train)
        assert act.engine_cycles() == {k: ctr[k] for k in ("forward", "backward", "update")}
        # forward weight rows = forward counter - (LOAD, START, drains, FIRE) - idle ACC cycles
        rows = act.phases["fwd_acc"].reads["weights"][0] / L
        assert rows == ctr["forward"] - T * sum(forward_overhead(g, mm.fire_stages) for g in G) \
            - int((events == 0).sum())
        assert rows == sum(int(events[l].sum()) * G[l] for l in range(K))
        if not train:
            continue
        # update rows read and written = update counter - UPDATE_OVERHEAD per layer - 1 per
        # touched group
        p = act.phases["upd_row"]
        rows = p.reads["weights"][0] / L
        assert rows == p.writes["weights"][0] / L == \
            ctr["update"] - UPDATE_OVERHEAD * K - sum(ld.touched for ld in loads)
        # PASS rows = backward counter - (BSTART, DELTA, drain, BUPD) - PASS drain cycles
        rows = act.phases["bwd_pass"].reads["weights"][0] / L
        assert rows == ctr["backward"] - T * sum(g + 2 + DELTA_STAGES for g in G) \
            - PASS_STAGES * sum(ld.pass_steps for ld in loads)
        assert energy(act)["pj"] == energy(activity(cfg, layer_loads(mm, gc)))["pj"]


# ---- dense, ANN, averages, the benchmark function -------------------------------------------

def test_dense_and_event_driven():
    cfg = load_config("tiny")
    mm = MemoryMap.of(cfg)
    rng = np.random.default_rng(11)
    for _ in range(10):
        c = _random_counts(mm, rng)
        ev, de = (energy(activity(cfg, layer_loads(mm, c, d)))["pj"] for d in (False, True))
        assert de >= ev
    # no event at all: the ACC reads nothing (an idle and a drain cycle per layer-step),
    # every other forward phase is unchanged
    zero = SampleCounts(np.zeros((mm.n_weight_layers, mm.timesteps), dtype=np.int64))
    a = activity(cfg, layer_loads(mm, zero), train=False)
    assert a.phases["fwd_acc"].reads == {} and a.phases["fwd_acc"].cycles == 2 * 2 * mm.timesteps
    d = activity(cfg, layer_loads(mm, zero, dense=True), train=False)
    assert d.phases["fwd_acc"].reads["weights"][0] == mm.timesteps * mm.lanes * sum(
        mm.fan_in(l) * mm.groups(l) for l in range(mm.n_weight_layers))
    assert d.phases["fwd_fire"].as_dict() == a.phases["fwd_fire"].as_dict()


def test_ann_on_the_same_fabric():
    cfg = load_config("default")
    mm = MemoryMap.of(cfg)
    a = ann_activity(cfg)
    used = {m for p in a.phases.values() for d in (p.reads, p.writes) for m in d}
    assert used == {"inputs", "activations", "weights", "acc", "readout", "errors", "ds"}
    # one pass, every input a multiply-accumulate: n_in x G rows of `lanes` multiplies
    rows = sum(mm.fan_in(l) * mm.groups(l) for l in range(mm.n_weight_layers))
    acc = a.phases["fwd_acc"]
    assert acc.reads["weights"][0] == rows * mm.lanes
    assert sum(n for k, n in acc.ops.items() if k[0] == "mult") == rows * mm.lanes
    # dense backward and update: every row of every layer rewritten, PASS over all groups
    assert a.phases["upd_row"].writes["weights"][0] == rows * mm.lanes
    assert a.phases["bwd_pass"].cycles == sum(mm.fan_in(l) * mm.groups(l) + 1
                                              for l in range(1, mm.n_weight_layers))
    assert ann_cycles(a) == sum(a.engine_cycles().values()) + 4
    inf = ann_activity(cfg, train=False)
    assert list(inf.phases) == list(FORWARD_PHASES)
    assert ann_cycles(inf, train=False) == inf.engine_cycles()["forward"] + 2


def test_counts_are_linear_in_the_loads():
    """Averaging loads first (what measure_energy does) gives the average energy."""
    cfg = _cfg("deep")
    mm = MemoryMap.of(cfg)
    rng = np.random.default_rng(2)
    runs = [layer_loads(mm, _random_counts(mm, rng)) for _ in range(7)]
    mean_e = np.mean([energy(activity(cfg, r))["pj"] for r in runs])
    assert energy(activity(cfg, mean_loads(runs)))["pj"] == pytest.approx(mean_e, rel=1e-12)


def test_measure_energy():
    cfg = load_config("tiny")
    r = measure_energy(cfg, samples=12, inferences=5)
    assert (r["config"], r["samples"], r["inferences"]) == ("tiny", 12, 5)
    assert r["schedule"] == cfg.hardware.schedule and r["clock_mhz"] == cfg.hardware.clock_mhz
    assert r["train_pj"] == pytest.approx(sum(r["train_pj_by_phase"].values()))
    assert r["train_pj"] == pytest.approx(sum(r["train_pj_by_engine"].values()))
    assert set(r["train_pj_by_phase"]) == {p for ps in PHASES.values() for p in ps}
    assert set(r["infer_pj_by_phase"]) == set(FORWARD_PHASES)
    assert sum(r["train_share_by_phase"].values()) == pytest.approx(1.0)
    assert r["train_edp_pj_s"] == pytest.approx(
        r["train_pj"] * r["train_cycles"] / (r["clock_mhz"] * 1e6))
    assert r["snn_over_ann"] == pytest.approx(r["train_pj"] / r["ann_train_pj"])
    assert r["dense_over_event"] == pytest.approx(r["dense_train_pj"] / r["train_pj"])
    assert r["dense_over_event"] > 1 and r["dense_over_event_infer"] > 1
    assert 0 < r["infer_pj"] < r["train_pj"]
    assert 0 < r["spike_rate"]["input"] < 1
    det = r["detail"]["snn"]["train"]
    assert det["compute_pj"] + det["memory_pj"] == pytest.approx(r["train_pj"])
    # the clock changes the delay, not the energy
    fast = measure_energy(cfg, samples=12, inferences=5, fmax_mhz=2 * cfg.hardware.clock_mhz)
    assert fast["train_pj"] == r["train_pj"]
    assert fast["train_edp_pj_s"] == pytest.approx(r["train_edp_pj_s"] / 2)
