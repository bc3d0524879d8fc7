"""cocotb testbench for the core: clock, reset, host stream source and sink, observation
monitor and scoreboard. Python waits on events (answers, observation records), never pokes
the DUT every cycle while it computes."""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

from rtl_gen import protocol

from .scoreboard import ForwardScoreboard, Mismatch, decode_obs

__all__ = ["TB", "CLOCK_NS"]

CLOCK_NS = 10


class TB:
    """Drives one core.

    Parameters
    ----------
    dut : the cocotb handle of ``snn_core``
    cfg : Config
    idle : float
        Probability of an idle cycle before each host word (valid low).
    backpressure : float
        Probability of ``ready`` low in each cycle while answers arrive.
    observe : bool
        Check every observation record (values and cycles) against the scoreboard.
    """

    def __init__(self, dut, cfg, *, idle: float = 0.0, backpressure: float = 0.0,
                 observe: bool = True, seed: int = 0):
        self.dut, self.cfg = dut, cfg
        self.idle, self.backpressure, self.observe = idle, backpressure, observe
        self.rng = random.Random(seed)
        self.scoreboard: ForwardScoreboard | None = None
        self.records = 0
        self.cycles_run = 0

    async def start(self) -> None:
        d = self.dut
        cocotb.start_soon(Clock(d.clk, CLOCK_NS, unit="ns").start())
        d.i__valid.value = 0
        d.o__ready.value = 0
        d.rst.value = 1
        for _ in range(3):
            await RisingEdge(d.clk)
        d.rst.value = 0
        await RisingEdge(d.clk)
        if self.observe:
            cocotb.start_soon(self._monitor())

    async def send(self, words: list[int]) -> None:
        """Send host words; with ``idle`` > 0, random idle cycles between them."""
        d = self.dut
        for w in words:
            while self.idle and self.rng.random() < self.idle:
                d.i__valid.value = 0
                await RisingEdge(d.clk)
            d.i__valid.value = 1
            d.i__payload.value = w
            while True:
                await ReadOnly()
                taken = bool(d.i__ready.value)
                await RisingEdge(d.clk)
                if taken:
                    break
        d.i__valid.value = 0

    async def receive(self, n: int) -> list[int]:
        """Receive ``n`` answer words, applying back-pressure at random. Without
        back-pressure it sleeps until an answer is offered (no per-cycle work)."""
        d = self.dut
        out: list[int] = []
        while len(out) < n:
            ready = 1 if not self.backpressure else int(self.rng.random() >= self.backpressure)
            d.o__ready.value = ready
            await ReadOnly()
            if not self.backpressure and not d.o__valid.value:
                await RisingEdge(d.o__valid)
                await ReadOnly()
            if ready and d.o__valid.value:
                out.append(int(d.o__payload.value))
            await RisingEdge(d.clk)  # one edge per iteration: every handshake is seen
        d.o__ready.value = 0
        return out

    async def _monitor(self) -> None:
        d = self.dut
        while True:
            await RisingEdge(d.obs_valid)
            await ReadOnly()
            while d.obs_valid.value:
                if self.scoreboard is None:
                    raise AssertionError("observation record outside a checked run")
                self.scoreboard.check(decode_obs(self.cfg, int(d.obs.value)))
                self.records += 1
                await RisingEdge(d.clk)
                await ReadOnly()

    async def load_params(self, params) -> None:
        self.params = params
        await self.send(protocol.load_params_words(self.cfg, params))

    async def run_samples(self, frames) -> None:
        """Run samples (N, T, n_in) one after the other, golden values computed in one batch."""
        for sb in ForwardScoreboard.batch(self.cfg, self.params, frames):
            await self.run_sample(sb.frames, sb)

    async def run_sample(self, frames, sb: ForwardScoreboard | None = None) -> ForwardScoreboard:
        """Load one sample's frames, run, read the readouts; check values and cycles."""
        sb = sb or ForwardScoreboard(self.cfg, self.params, frames)
        self.scoreboard = sb if self.observe else None
        await self.send(protocol.frames_words(self.cfg, frames) + protocol.run_words())
        (cycles,) = await self.receive(1)
        await self.send(protocol.read_readout_words())
        words = await self.receive(protocol.readout_answer_len(self.cfg))
        if cycles != sb.timing.cycles:
            raise Mismatch(f"forward pass took {cycles} cycles (cycle counter), timing model "
                           f"says {sb.timing.cycles}")
        if self.observe:
            sb.finish()
        sb.check_readout(protocol.decode_readout(self.cfg, words))
        self.cycles_run += cycles
        return sb
