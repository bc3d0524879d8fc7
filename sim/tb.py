"""cocotb testbench for the core: clock, reset, host stream source and sink, the host driver's
flows (rtl_gen/driver.py) over them, observation monitor and the golden scoreboard. Python
waits on events (replies, observation records), never pokes the DUT every cycle while it
computes."""

from __future__ import annotations

import random

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from rtl_gen import driver
from rtl_gen.driver import SampleResult, adrive
from rtl_gen.protocol import Command, execute_async

from .scoreboard import TrainScoreboard

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
        Check every forward observation record (values and cycles) against the golden
        models.
    """

    def __init__(self, dut, cfg, *, idle: float = 0.0, backpressure: float = 0.0,
                 observe: bool = True, seed: int = 0):
        self.dut, self.cfg = dut, cfg
        self.idle, self.backpressure, self.observe = idle, backpressure, observe
        self.rng = random.Random(seed)
        self.board: TrainScoreboard | None = None
        self.records: list[int] = []
        self.n_records = 0
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
        back-pressure it sleeps until an answer is offered (no per-cycle work while the core
        computes)."""
        d = self.dut
        out: list[int] = []
        if not self.backpressure:
            # ready held high: a word offered at a falling edge is taken at the next rising
            # edge, so one trigger per word (twice as fast as the general loop below)
            d.o__ready.value = 1
            while len(out) < n:
                await FallingEdge(d.clk)
                if d.o__valid.value:
                    out.append(int(d.o__payload.value))
                else:
                    await RisingEdge(d.o__valid)
            await RisingEdge(d.clk)
            d.o__ready.value = 0
            return out
        while len(out) < n:
            ready = int(self.rng.random() >= self.backpressure)
            d.o__ready.value = ready
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
                self.records.append(int(d.obs.value))
                await RisingEdge(d.clk)
                await ReadOnly()

    async def execute(self, cmd: Command):
        """Send one command, receive its whole reply, decode it (raises ProtocolError)."""
        return await execute_async(cmd, self.send, self.receive)

    async def load(self, params, epoch: int = 1) -> TrainScoreboard:
        """Program and parameters into the core; the golden learner that follows it."""
        await adrive(driver.load(self.cfg, params, epoch), self.execute)
        self.board = TrainScoreboard(self.cfg, params, epoch)
        return self.board

    async def run_sample(self, frames, label, *, readback: bool = True) -> SampleResult:
        """One sample through the core (train with ``label``, infer with None), checked
        against the golden models: cycle counters, readouts, event counts, every forward
        record (when observing) and, with ``readback``, every parameter."""
        self.records = []
        res = await adrive(driver.run_sample(self.cfg, frames, label, readback=readback),
                           self.execute)
        sb = self.board.expect(frames, label)
        self.board.check(sb, res, self.records if self.observe else None)
        self.n_records += len(self.records)
        self.cycles_run += res.cycles
        return res
