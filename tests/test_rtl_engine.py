"""The training engine in amaranth.sim: after every sample every weight, threshold and gain
equals golden/fixed_model.py, and every cycle counter and forward record golden/timing.py,
in each schedule, across randomized configs."""

import random

import pytest
import torch

from golden.fixed_model import FixedArith
from golden.learner import Learner, lr_shifts
from golden.timing import SCHEDULES
from amaranth.sim import Simulator

from rtl_gen.config import ConfigError, load_config
from rtl_gen.engine import TrainingEngine
from rtl_gen.protocol import Mem
from sim.cases import make_params
from rtl_gen.protocol import Host
from sim.pysim import _EnginePort, run_engine_pysim
from sim.scoreboard import Mismatch


def _cfg(layers, T, lanes, schedule, **net):
    return load_config("tiny").replace(
        network={"layers": layers, "timesteps": T, **net},
        hardware={"lanes": lanes, "schedule": schedule, "max_width": 48, "max_layers": 3,
                  "neuron_words": 256, "weight_words": 4096, "max_timesteps": 8},
        train={"lr_shift": 3, "lr_shift_threshold": 4, "lr_shift_gain": 5})


def _samples(cfg, seed, labels):
    g = torch.Generator().manual_seed(seed)
    return [((torch.rand(cfg.timesteps, cfg.n_in, generator=g) < 0.45).to(torch.uint8), y)
            for y in labels]


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_training_exact_in_every_schedule(schedule):
    cfg = _cfg([20, 11, 5], 3, 4, schedule)
    fig = run_engine_pysim(cfg, make_params(cfg, 1), _samples(cfg, 1, [0, 3, None, 4, 1]))
    assert len(fig["cycles"]) == 5 and fig["records"] > 0


@pytest.mark.parametrize("fire_stages", [2, 4, 6])
def test_training_exact_with_fire_stages(fire_stages):
    """The FIRE pipeline's depth is the config's (stages beyond the LIF's three register the
    memories' outputs first): the values and every cycle count follow golden/timing.py."""
    cfg = _cfg([20, 11, 5], 3, 4, "dual").replace(hardware={"fire_stages": fire_stages})
    fig = run_engine_pysim(cfg, make_params(cfg, 3), _samples(cfg, 3, [2, None, 4]))
    assert len(fig["cycles"]) == 3 and fig["records"] > 0


def test_training_exact_with_a_weight_shift_past_the_gradient():
    """A weight step shifted by more than the centred gradient sum is wide (the engine
    clamps the shift to that width: only the sign is left, which rounds to 0) leaves the
    weights as the golden model does."""
    cfg = _cfg([20, 11, 5], 2, 4, "serial").replace(
        fixed={"w_bits": 8, "w_frac": 5, "v_bits": 8, "v_frac": 5}, train={"lr_shift": 24})
    run_engine_pysim(cfg, make_params(cfg, 4), _samples(cfg, 4, [1, 3]))


@pytest.mark.parametrize("schedule", ["serial", "dual"])
def test_training_exact_with_two_row_groups(schedule):
    """Fan-in 2 in every weight layer: each update group is two weight rows, so groups follow
    each other as closely as centering allows (a row of one has no centred gradient): the
    row mean on the multiplier shared with the DELTA, the errors and the last write of a
    group all meet the next group's. The golden model changes weights in every layer."""
    cfg = _cfg([2, 7, 2, 3], 4, 2, schedule)
    g = torch.Generator().manual_seed(1)
    samples = [((torch.rand(cfg.timesteps, 2, generator=g) < 0.7).to(torch.uint8), y)
               for y in (0, 2, 1)]
    params = make_params(cfg, 1)
    gold = Learner(cfg, FixedArith(cfg), params.clone())
    for x, y in samples:
        gold.train_sample(x, y, lr_shifts(cfg, 0))
    assert all((a != b).any() for a, b in zip(params.w + [params.w_out],
                                              gold.params.w + [gold.params.w_out]))
    run_engine_pysim(cfg, params, samples)


def _random_config(rng):
    """A random network, neuron model, formats and core (reduced until it validates)."""
    n_lif = rng.choice([1, 1, 2])
    layers = [rng.randint(2, 40)] + [rng.randint(2, 24) for _ in range(n_lif)] + \
        [rng.randint(2, 9)]
    net = {"reset": rng.choice(["soft", "hard"]), "leak": rng.choice([0.5, 0.75, 1.0, 0.25]),
           "weight_centering": rng.random() < 0.7, "learn_threshold": rng.random() < 0.8,
           "loss": rng.choice(["hinge", "mse"]), "surrogate": rng.choice(["triangle",
                                                                            "rectangle"])}
    cfg = _cfg(layers, rng.randint(1, 5), rng.randint(1, 9), rng.choice(SCHEDULES), **net)
    if rng.random() < 0.5:
        cfg = cfg.replace(fixed={"w_bits": 12, "w_frac": 9, "v_bits": 12, "v_frac": 7})
    return cfg


@pytest.mark.parametrize("seed", range(4))
def test_training_exact_on_randomized_configs(seed):
    rng = random.Random(seed)
    cfg = _random_config(rng)
    labels = [rng.randrange(cfg.n_out) for _ in range(3)]
    run_engine_pysim(cfg, make_params(cfg, seed), _samples(cfg, seed, labels))


def test_checker_catches_a_wrong_update():
    """An engine whose surrogate differs from the golden model's (the forward pass is the
    same, only learning differs) fails at its first sample."""
    cfg = _cfg([12, 7, 3], 2, 3, "dual", surrogate_width=1.0)
    params = make_params(cfg, 2)
    with pytest.raises(Mismatch, match="sample 1"):
        run_engine_pysim(cfg, params, _samples(cfg, 2, [1]),
                         dut_cfg=cfg.replace(network={"surrogate_width": 2.0}))


def test_network_must_fit_the_core():
    with pytest.raises(ConfigError) as e:
        _cfg([64, 40, 10], 2, 4, "serial")
    assert "network.layers" in str(e.value) and "hardware.max_width" in str(e.value)


@pytest.mark.parametrize("cmd", [Host().nop(), Host().status(), Host().clear_error()])
def test_engine_port_refuses_decoder_commands(cmd):
    """The amaranth.sim harness drives the engine's port directly: commands only the decoder
    has are refused by name, before anything is driven."""
    import asyncio

    with pytest.raises(ValueError, match=f"{cmd.what}: the engine's port has no such operation"):
        asyncio.run(_EnginePort(None).execute(None, cmd))


def test_poisoned_collisions_bite():
    """The engine tests run with ``poison_collisions`` (a read of an address written in the
    same cycle returns inverted bits), so they show that no value the engine uses is such a
    read, which the iCE40 build leaves undefined. The poison is not vacuous: a host read of
    the threshold being rewritten returns the old word without it and its inverse with it."""
    cfg = _cfg([20, 11, 5], 3, 4, "serial")
    seen = {}
    for poison in (False, True):
        dut = TrainingEngine(cfg, poison_collisions=poison)

        async def bench(ctx, dut=dut, poison=poison):
            ctx.set(dut.mem_sel, Mem.THRESHOLDS)
            ctx.set(dut.mem_addr, 2)
            ctx.set(dut.mem_wdata, 5)
            ctx.set(dut.mem_we, 1)
            await ctx.tick()
            ctx.set(dut.mem_wdata, 9)  # rewrite it while reading it
            ctx.set(dut.mem_re, 1)
            await ctx.tick()
            ctx.set(dut.mem_we, 0)  # read it again
            await ctx.tick()
            ctx.set(dut.mem_re, 0)
            first = ctx.get(dut.mem_rdata)  # (two cycles after mem_re)
            await ctx.tick()
            seen[poison] = (first, ctx.get(dut.mem_rdata))

        sim = Simulator(dut)
        sim.add_clock(1e-6)
        sim.add_testbench(bench)
        sim.run()
    assert seen[False] == (5, 9)
    assert seen[True] == (~5 & 0xFFFFFFFF, 9)
