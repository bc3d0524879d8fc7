"""The host driver's sessions: loading a core, running samples, reading results back.

Written once, sans-IO, on top of :class:`rtl_gen.protocol.Host`: each flow is a generator
that yields :class:`rtl_gen.protocol.Command` objects and receives their results, so the same
flow runs over a cocotb testbench (:func:`adrive`), a serial port or any synchronous transport
(:func:`drive` with :class:`rtl_gen.protocol.SyncHost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Generator

import numpy as np

from golden.learner import Params, lr_shifts

from . import images
from .protocol import Mem
from .memory_map import CYCLE_COUNTERS, MemoryMap
from .protocol import Command, Host

__all__ = ["SampleResult", "load", "run_sample", "read_params", "drive", "adrive"]

Flow = Generator[Command, Any, Any]
_host = Host()


@dataclass
class SampleResult:
    """What a run leaves in the core: cycle counters, readouts (T, n_out), input events
    (weight layers, T) and, when read back, every parameter."""

    cycles: int
    counters: dict[str, int]
    readout: np.ndarray
    counts: np.ndarray
    params: Params | None = None


def load(cfg, params: Params, epoch: int = 1) -> Flow:
    """Program, parameters (fixed-point ``Params``) and the learning rates of ``epoch``."""
    for mem, addr, words in images.program_writes(cfg) + images.param_writes(cfg, params):
        yield _host.write(mem, addr, words)
    yield _host.set_lr(*lr_shifts(cfg, epoch))


def read_params(cfg) -> Flow:
    answers = []
    for r in images.param_reads(cfg):
        answers.append((yield _host.read(*r)))
    return images.params_from_reads(cfg, answers)


def run_sample(cfg, frames, label: int | None, *, readback: bool = True) -> Flow:
    """Load one sample's frames (T, n_in), train on it (``label``) or infer (``None``), read
    the results (and with ``readback`` and a label, every parameter)."""
    for mem, addr, words in images.frame_writes(cfg, frames):
        yield _host.write(mem, addr, words)
    cycles = yield (_host.infer() if label is None else _host.train(int(label)))
    counters = dict(zip(CYCLE_COUNTERS, (yield _host.read(Mem.CYCLES, 0,
                                                          len(CYCLE_COUNTERS)))))
    mm = MemoryMap.of(cfg)
    readout = mm.readout_from_image((yield _host.read(*images.readout_read(cfg))))
    counts = images.counts_from_read(cfg, (yield _host.read(*images.counts_read(cfg))))
    params = (yield from read_params(cfg)) if readback and label is not None else None
    return SampleResult(cycles, counters, readout, counts, params)


def drive(flow: Flow, execute: Callable[[Command], Any]) -> Any:
    """Run ``flow`` with a synchronous ``execute`` (e.g. ``SyncHost.execute``)."""
    try:
        cmd = next(flow)
        while True:
            cmd = flow.send(execute(cmd))
    except StopIteration as stop:
        return stop.value


async def adrive(flow: Flow, execute: Callable[[Command], Awaitable[Any]]) -> Any:
    """Run ``flow`` with an asynchronous ``execute`` (a cocotb testbench)."""
    try:
        cmd = next(flow)
        while True:
            cmd = flow.send(await execute(cmd))
    except StopIteration as stop:
        return stop.value
