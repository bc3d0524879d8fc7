"""Run the training engine in Amaranth's Python simulator: small configs, no Verilator.

The host port of :class:`rtl_gen.engine.TrainingEngine` is driven directly (no command
stream); after every run the readouts, input-event counts, cycle counters, every forward
record and (after training) every parameter are compared with golden/fixed_model.py and
golden/timing.py by :class:`sim.scoreboard.TrainScoreboard`.
"""

from __future__ import annotations

from amaranth.sim import Simulator

from rtl_gen import images
from rtl_gen.driver import SampleResult
from rtl_gen.engine import TrainingEngine
from rtl_gen.protocol import Mem
from rtl_gen.memory_map import CYCLE_COUNTERS, MemoryMap

from .scoreboard import TrainScoreboard

__all__ = ["run_engine_pysim"]


def run_engine_pysim(cfg, params, samples, *, epoch: int = 1, dut_cfg=None) -> dict:
    """Train (label given) or infer (label None) ``samples`` = [(frames (T, n_in), label)] in
    order, starting from fixed ``params``; raise :class:`sim.scoreboard.Mismatch` at the first
    difference. Returns the cycles of each run and the number of records checked.
    ``dut_cfg`` builds the engine from another config (to show that the checks bite)."""
    dut = TrainingEngine(dut_cfg or cfg)
    mm = MemoryMap.of(cfg)
    board = TrainScoreboard(cfg, params, epoch)
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
        return images.to_signed(out).tolist()

    async def host(ctx):
        for port, shift in zip((dut.lr_w, dut.lr_th, dut.lr_g), board.shifts):
            ctx.set(port, shift)
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
            counters = dict(zip(CYCLE_COUNTERS, await read(ctx, Mem.CYCLES, 0, 4)))
            readout = mm.readout_from_image(await read(ctx, *images.readout_read(cfg)))
            counts = images.counts_from_read(cfg, await read(ctx, *images.counts_read(cfg)))
            got = None
            if label is not None:
                got = images.params_from_reads(
                    cfg, [await read(ctx, *r) for r in images.param_reads(cfg)])
            sb = board.expect(frames, label)
            board.check(sb, SampleResult(counters["total"], counters, readout, counts, got),
                        records)
            figures["cycles"].append(counters["total"])
            figures["records"] += len(records)

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
