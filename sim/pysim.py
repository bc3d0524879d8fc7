"""Run the core in Amaranth's Python simulator: small configs, quick checks, no Verilator."""

from __future__ import annotations

from amaranth.sim import Simulator

from rtl_gen import protocol
from rtl_gen.core import Core

from .scoreboard import ForwardScoreboard, decode_obs

__all__ = ["run_forward_pysim"]


def run_forward_pysim(cfg, params, frames) -> ForwardScoreboard:
    """Load ``params`` and ``frames`` over the host stream, run, read the readouts, and check
    every observed record, the cycle count and the readout memory. Returns the scoreboard."""
    dut = Core(cfg)
    sb = ForwardScoreboard(cfg, params, frames)
    words = (protocol.load_params_words(cfg, params) + protocol.frames_words(cfg, frames)
             + protocol.run_words() + protocol.read_readout_words())
    n_answers = 1 + protocol.readout_answer_len(cfg)
    answers: list[int] = []
    records: list[int] = []

    async def host(ctx):
        for w in words:
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, w)
            await ctx.tick().until(dut.i.ready)
        ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        ctx.set(dut.o.ready, 1)
        while len(answers) < n_answers:
            _, _, valid, payload = await ctx.tick().sample(dut.o.valid, dut.o.payload)
            if valid:
                answers.append(payload)

    async def monitor(ctx):
        async for _, _, valid, obs in ctx.tick().sample(dut.obs_valid, dut.obs.as_value()):
            if valid:
                records.append(obs)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(host)
    sim.add_testbench(sink)
    sim.add_process(monitor)
    sim.run()
    for r in records:
        sb.check(decode_obs(cfg, r))
    sb.finish(answers[0])
    sb.check_readout(protocol.decode_readout(cfg, answers[1:]))
    return sb
