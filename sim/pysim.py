"""Run the training engine in Amaranth's Python simulator: small configs, no Verilator.

The host driver's flows (rtl_gen/driver.py) run unchanged, their commands carried out
directly on the engine's host port (no command stream: the decoder has its own tests); after
every run the readouts, input-event counts, cycle counters, every forward record and (after
training) every parameter are compared with golden/fixed_model.py and golden/timing.py by
:class:`sim.scoreboard.TrainScoreboard`.
"""

from __future__ import annotations

from amaranth.sim import Simulator

from rtl_gen import driver
from rtl_gen.engine import TrainingEngine
from rtl_gen.protocol import Command, Op, parse_header

from .scoreboard import TrainScoreboard

__all__ = ["run_engine_pysim", "ENGINE_OPS"]

#: The commands the engine's host port can carry out directly.
ENGINE_OPS = (Op.WRITE, Op.READ, Op.SET_LR, Op.INFER, Op.TRAIN)


class _EnginePort:
    """Carries out a driver :class:`rtl_gen.protocol.Command` on the engine's host port.

    The port has memory reads and writes, learning rates and runs (:data:`ENGINE_OPS`);
    NOP, STATUS and CLEAR_ERROR belong to the command decoder (tests/test_host_interface.py)
    and are refused with a ValueError."""

    def __init__(self, dut):
        self.dut = dut

    async def execute(self, ctx, cmd: Command):
        dut = self.dut
        op, _ = parse_header(cmd.words[0])
        if op not in ENGINE_OPS:
            raise ValueError(f"{cmd.what}: the engine's port has no such operation (it runs "
                             f"{', '.join(Op(o).name for o in ENGINE_OPS)}; the decoder "
                             "handles the rest)")
        payload = cmd.words[1:]
        if op in (Op.WRITE, Op.READ):
            mem, addr = payload[0] >> 24, payload[0] & 0xFFFFFF
            ctx.set(dut.mem_sel, mem)
        data: list[int] = []
        if op == Op.WRITE:
            ctx.set(dut.mem_we, 1)
            for i, word in enumerate(payload[1:]):
                ctx.set(dut.mem_addr, addr + i)
                ctx.set(dut.mem_wdata, word)
                await ctx.tick()
            ctx.set(dut.mem_we, 0)
        elif op == Op.READ:
            n = payload[1]  # word i is on mem_rdata two cycles after its mem_re
            ctx.set(dut.mem_re, 1)
            for i in range(n + 1):
                if i < n:
                    ctx.set(dut.mem_addr, addr + i)
                else:
                    ctx.set(dut.mem_re, 0)
                await ctx.tick()
                if i:
                    data.append(ctx.get(dut.mem_rdata))
        elif op == Op.SET_LR:
            for port, shift in zip((dut.lr_w, dut.lr_th, dut.lr_g), payload):
                ctx.set(port, shift)
        else:  # INFER, TRAIN
            ctx.set(dut.run, 1)
            ctx.set(dut.train, op == Op.TRAIN)
            ctx.set(dut.label, payload[0] if payload else 0)
            await ctx.tick()
            ctx.set(dut.run, 0)
            await ctx.tick().until(dut.done)
            await ctx.tick()
            data = [ctx.get(dut.cycles)]
        return cmd.decode(0, data)


def run_engine_pysim(cfg, params, samples, *, epoch: int = 1, dut_cfg=None,
                     poison: bool = True) -> dict:
    """Train (label given) or infer (label None) ``samples`` = [(frames (T, n_in), label)] in
    order, starting from fixed ``params``; raise :class:`sim.scoreboard.Mismatch` at the first
    difference. Returns the cycles of each run and the number of records checked.
    ``dut_cfg`` builds the engine from another config (to show that the checks bite). With
    ``poison`` (the default) every memory read that meets a write of its address returns
    inverted bits, so a run that stays exact uses no such read (what lets the iCE40 build
    leave read-during-write undefined: ``no_rw_check`` in rtl_gen/engine.py)."""
    dut = TrainingEngine(dut_cfg or cfg, poison_collisions=poison)
    port = _EnginePort(dut)
    board = TrainScoreboard(cfg, params, epoch)
    figures = {"cycles": [], "records": 0}
    records: list[int] = []

    async def host(ctx):
        execute = lambda cmd: port.execute(ctx, cmd)  # noqa: E731
        await driver.adrive(driver.load(cfg, params, epoch), execute)
        for frames, label in samples:
            records.clear()
            res = await driver.adrive(driver.run_sample(cfg, frames, label), execute)
            board.check(board.expect(frames, label), res, records)
            figures["cycles"].append(res.cycles)
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
