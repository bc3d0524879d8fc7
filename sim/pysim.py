"""Run the training engine in Amaranth's Python simulator: small configs, no Verilator.

The host port of :class:`rtl_gen.engine.TrainingEngine` is driven directly (no command
stream); every run's readouts, event counts, cycle counters and, after training, every
parameter are read back and compared with golden/fixed_model.py and golden/timing.py.
"""

from __future__ import annotations

import numpy as np
import torch
from amaranth.sim import Simulator

from golden.fixed_model import FixedArith
from golden.learner import Learner, lr_shifts
from golden.timing import infer_timing, sample_counts, train_timing
from rtl_gen import images
from rtl_gen.engine import MemId, TrainingEngine
from rtl_gen.memory_map import CYCLE_COUNTERS, MemoryMap

from .scoreboard import ForwardScoreboard, Mismatch, check_params, decode_obs

__all__ = ["run_engine_pysim"]


def run_engine_pysim(cfg, params, samples, *, epoch: int = 1) -> dict:
    """Train (label given) or infer (label None) ``samples`` = [(frames (T, n_in), label)] in
    order, starting from fixed ``params``; raise :class:`Mismatch` at the first difference.
    Returns figures of the run (cycles per sample, records checked)."""
    dut = TrainingEngine(cfg)
    mm = MemoryMap.of(cfg)
    learner = Learner(cfg, FixedArith(cfg), params.clone())
    shifts = lr_shifts(cfg, epoch)
    figures = {"cycles": [], "records": 0}
    records: list[int] = []

    async def write(ctx, mem, addr, values):
        ctx.set(dut.mem_we, 1)
        ctx.set(dut.mem_sel, mem)
        for i, val in enumerate(values):
            ctx.set(dut.mem_addr, addr + i)
            ctx.set(dut.mem_wdata, int(val) & 0xFFFFFFFF)
            await ctx.tick()
        ctx.set(dut.mem_we, 0)

    async def read(ctx, mem, addr, n):
        out = []
        ctx.set(dut.mem_sel, mem)
        ctx.set(dut.mem_re, 1)
        for i in range(n):
            ctx.set(dut.mem_addr, addr + i)
            await ctx.tick()
            out.append(ctx.get(dut.mem_rdata))
        ctx.set(dut.mem_re, 0)
        return out

    async def host(ctx):
        ctx.set(dut.lr_w, shifts[0])
        ctx.set(dut.lr_th, shifts[1])
        ctx.set(dut.lr_g, shifts[2])
        for w in images.program_writes(cfg) + images.param_writes(cfg, params):
            await write(ctx, *w)
        for frames, label in samples:
            for w in images.frame_writes(cfg, frames):
                await write(ctx, *w)
            records.clear()
            ctx.set(dut.run, 1)
            ctx.set(dut.train, label is not None)
            ctx.set(dut.label, label or 0)
            await ctx.tick()
            ctx.set(dut.run, 0)
            await ctx.tick().until(dut.done)
            await ctx.tick()
            x = frames.unsqueeze(0)
            vth = learner.params.vth.clone()
            if label is None:
                tr = learner.infer(x)
                timing = infer_timing(mm, sample_counts(mm, frames, tr).events,
                                      dense=cfg.hardware.schedule == "dense")
            else:
                tr, g = learner.train_sample(frames, label, shifts)
                timing = train_timing(mm, sample_counts(mm, frames, tr, g), cfg.hardware.schedule)
            counters = dict(zip(CYCLE_COUNTERS, await read(ctx, MemId.CYCLES, 0, 4)))
            if counters != timing.counters():
                raise Mismatch(f"cycle counters {counters}, timing model says "
                               f"{timing.counters()}")
            figures["cycles"].append(counters["total"])
            ro = mm.readout_from_image(images.to_signed(await read(ctx, *images.readout_read(cfg))))
            want = tr.out[0].numpy()
            if not np.array_equal(ro, want):
                t, k = np.argwhere(ro != want)[0]
                raise Mismatch(f"readout step {t} class {k}: {ro[t, k]}, golden {want[t, k]}")
            counts = images.counts_from_read(cfg, await read(ctx, *images.counts_read(cfg)))
            want_counts = sample_counts(mm, frames, tr).events
            if not np.array_equal(counts, want_counts):
                raise Mismatch(f"event counts {counts.tolist()}, golden {want_counts.tolist()}")
            sb = ForwardScoreboard(cfg, tr, vth, timing)
            for r in records:
                sb.check(decode_obs(cfg, r))
            sb.finish()
            figures["records"] += len(records)
            if label is not None:
                got = images.params_from_reads(
                    cfg, [await read(ctx, *r) for r in images.param_reads(cfg)])
                check_params(got, learner.params, f"after sample {len(figures['cycles'])}")

    async def monitor(ctx):
        async for _, _, valid, obs in ctx.tick().sample(dut.obs_valid, dut.obs.as_value()):
            if valid:
                records.append(obs)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(host)
    sim.add_process(monitor)
    sim.run()
    return figures
