"""The timing model's schedules and the instruction set's encoding (the RTL's equality with
both is tested in tests/test_rtl_engine.py and tests/test_rtl_cocotb.py)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from golden.timing import SampleCounts, infer_timing, run_cycle_bound, train_timing
from rtl_gen.config import load_config
from rtl_gen.isa import LayerInstr, Program, compile_network, recip
from rtl_gen.memory_map import MemoryMap


@settings(max_examples=60)
@given(st.integers(0, 2**32 - 1))
def test_dual_never_slower_and_dense_never_faster(seed):
    rng = np.random.default_rng(seed)
    mm = MemoryMap.of(load_config("default"))
    K, T = mm.n_weight_layers, mm.timesteps
    fan = np.array([mm.fan_in(l) for l in range(K)])[:, None]
    groups = np.array([mm.groups(l) for l in range(K)])
    nz = rng.integers(0, groups[:, None] + 1, (K, T))
    c = SampleCounts(rng.integers(0, fan + 1, (K, T)), nz,
                     np.maximum(nz.max(1), rng.integers(0, groups + 1)))
    t = {s: train_timing(mm, c, s) for s in ("serial", "dual", "dense")}
    assert t["dual"].cycles <= t["serial"].cycles <= t["dense"].cycles
    # the same engine work in serial and dual, only the overlap differs
    assert t["dual"].counters() | {"total": 0} == t["serial"].counters() | {"total": 0}
    # dual saves at most the smaller engine's work
    assert t["serial"].cycles - t["dual"].cycles <= min(t["serial"].forward,
                                                        t["serial"].backward)
    # the forward phases of a training sample are those of an inference, shifted
    inf = infer_timing(mm, c.events)
    assert [p.acc_cycles for p in inf.phases] == [p.acc_cycles for p in t["serial"].phases]


def test_a_hand_counted_training_sample():
    """64-128-10 on 8 lanes, T = 1: forward (6 + 5*16 + 16) + (6 + 4*2 + 2) (LOAD, START,
    ACC, its drain cycle, FIRE, the three-stage FIRE pipeline draining); backward
    readout (2 + 9) + pass (128 * 1 + 5), LIF (16 + 9) (BSTART, a DELTA cycle per group, the
    seven-stage DELTA pipeline draining, BUPD; a weight row per PASS cycle, the five-stage PASS
    pipeline draining); update (3 + 3*65) + (3 + 1*129) (USTART, UWAIT, a set-up cycle per
    touched group and a cycle per row, the UNEXT that finds no group left);
    four stages of one cycle each and the final cycle."""
    mm = MemoryMap.of(load_config("default").replace(network={"timesteps": 1}))
    c = SampleCounts(np.array([[5], [4]]), np.array([[3], [1]]), np.array([3, 1]))
    fwd = (6 + 80 + 16) + (6 + 8 + 2)
    bwd = (2 + 9 + 128 + 5) + (16 + 9)
    upd = (3 + 3 * 65) + (3 + 129)
    t = train_timing(mm, c, "serial")
    assert (t.forward, t.backward, t.update) == (fwd, bwd, upd)
    assert t.cycles == fwd + bwd + upd + 3 + 1
    assert train_timing(mm, c, "dual").cycles == t.cycles  # one step: nothing to overlap
    # each FIRE stage more is one cycle more per layer and step (two layers here)
    mm4 = MemoryMap.of(load_config("default").replace(network={"timesteps": 1},
                                                      hardware={"fire_stages": 4}))
    assert train_timing(mm4, c, "serial").forward == fwd + 2


@settings(max_examples=40)
@given(st.integers(1, 40), st.integers(1, 9), st.integers(2, 4), st.integers(1, 6),
       st.sampled_from(["serial", "dual", "dense"]), st.integers(2, 6))
def test_run_cycle_bound_covers_the_longest_run(width, lanes, layers, steps, schedule, fire):
    """The cycle counters' width comes from ``run_cycle_bound``: it is at least the cycles of
    the longest run a core can make (every layer as wide as the core, every input spiking,
    every group listed and touched), in every schedule, training or inference."""
    cfg = load_config("tiny").replace(
        network={"layers": [width] * (layers + 1), "timesteps": steps},
        hardware={"lanes": lanes, "schedule": schedule, "max_width": width,
                  "max_layers": layers, "max_timesteps": steps, "neuron_words": 4096,
                  "weight_words": 1 << 16, "fire_stages": fire})
    mm = MemoryMap.of(cfg)
    K, T = mm.n_weight_layers, mm.timesteps
    groups = np.array([mm.groups(l) for l in range(K)])
    c = SampleCounts(np.full((K, T), width), np.repeat(groups[:, None], T, 1), groups)
    bound = run_cycle_bound(width, mm.cap_groups, layers, steps, fire)
    assert train_timing(mm, c, schedule).cycles <= bound
    assert infer_timing(mm, c.events, schedule == "dense").cycles <= bound


def test_program_round_trips_and_lays_layers_out_back_to_back():
    cfg = load_config("default").replace(network={"layers": [64, 40, 30, 10], "timesteps": 5})
    prog = compile_network(cfg)
    assert Program.decode(prog.words()) == prog
    a, b, c = prog.layers
    assert (a.n_in, a.n_out, a.groups, a.wbase, a.hbase) == (64, 40, 5, 0, 0)
    assert (b.wbase, b.hbase) == (64 * 5, 5) and (c.wbase, c.hbase) == (64 * 5 + 40 * 4, 9)
    assert a.recip == recip(64, 16) == 1024 and c.recip == 0  # the readout is not centered
    assert LayerInstr.decode(a.words()) == a
