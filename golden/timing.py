"""Timing model: the exact cycle count of every phase of the training core.

It is also the performance model: the RTL's cycle counters and the cycle stamp of every
observed forward record equal what this model says (sim/ checks both). ``G = ceil(n_out /
lanes)`` is the number of groups of a weight layer, ``n_in`` its fan-in.

Forward engine, one step, each weight layer in turn (LIF layers, then the readout):

=======  ====================  =======================================================
phase    cycles                what happens
=======  ====================  =======================================================
LOAD     1                     read the layer's input spike vector, threshold and gain
START    1                     the event queue takes the vector
ACC      max(1, nnz * G)       every active input adds its weight column, one group per
                               cycle (``dense``: every input, ``n_in * G``)
ADRAIN   1                     the last sums written (the weight address is registered):
                               the ACC's cycle that finds the queue empty, or after an
                               empty ACC a state of its own
FIRE     G                     LIF (or readout) of one group of ``lanes`` neurons a cycle
DRAIN    S                     the FIRE pipeline drains: the last group's results are
                               written (``S``: ``hardware.fire_stages``, 3 by default)
=======  ====================  =======================================================

Backward engine, one step, each weight layer from the readout down:

=======  ====================  =======================================================
BSTART   1                     read the step's threshold and gain
DELTA    G + 7                 readout error or ``delta``/``da`` of one group a cycle,
                               threshold/gain gradient sums, row sums, nonzero-group list;
                               then its pipeline drains (``DELTA_STAGES``)
BUPD     1                     threshold and gain of (layer, step) updated
PASS     n_in * nz + 5         ``ds = W^T da`` over the ``nz`` groups with a nonzero ``da``
                               (layers above the first; skipped when ``nz = 0``;
                               ``dense``: ``nz = G``), one weight row a cycle; then its
                               pipeline drains (``PASS_STAGES``)
=======  ====================  =======================================================

Update engine, once per sample, each weight layer: ``3 + touched * (1 + n_in)`` cycles, where
``touched`` is the number of groups with a nonzero ``da`` at some step (``dense``: ``G``): the
event queue takes the layer's touched groups and searches them (``UPDATE_OVERHEAD``: USTART,
UWAIT and the UNEXT that finds none left), then one set-up cycle per group and one weight row
(``lanes`` weights) a cycle.

Scheduler: a run is a sequence of stages, each one cycle to start plus the longest of the
engines it starts, then one final cycle. Inference: ``F(0) .. F(T-1)``. ``serial`` and
``dense`` training: ``F(0) B(0) F(1) B(1) .. B(T-1) U``. ``dual``: ``F(0) [F(1)|B(0)] ..
[F(T-1)|B(T-2)] B(T-1) U``: the forward of step ``t+1`` overlaps the backward of step ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rtl_gen.memory_map import MemoryMap

__all__ = ["ForwardPhase", "RunTiming", "SampleCounts", "forward_layer_cycles",
           "backward_layer_cycles", "update_layer_cycles", "infer_timing", "train_timing",
           "sample_counts", "input_event_counts", "SCHEDULES", "DELTA_STAGES",
           "ACC_DRAIN", "UPDATE_OVERHEAD", "forward_overhead",
           "PASS_STAGES", "run_cycle_bound"]

SCHEDULES = ("serial", "dual", "dense")


#: Cycles between the forward's last ACC cycle and its first FIRE cycle: the ACC registers an
#: event's weight address (``index * G + base``) before reading, so its last sums are written
#: a cycle after it ends.
ACC_DRAIN = 1


def forward_overhead(groups: int, fire_stages: int) -> int:
    """A forward layer-step's cycles besides its ACC cycles: LOAD, START, the ACC's drain,
    one FIRE cycle per group, the FIRE pipeline draining (``fire_stages``, the core's
    ``hardware.fire_stages``: with three, the sums and membranes read and the product
    acc * gain registered, then current and u_pre, then the rest; each stage beyond three
    registers the memories' outputs once more)."""
    return 2 + ACC_DRAIN + groups + fire_stages


def forward_layer_cycles(events: int, n_in: int, groups: int, fire_stages: int,
                         dense: bool = False) -> int:
    """ACC (one cycle per event and group; at least one) and :func:`forward_overhead`."""
    acc = n_in * groups if dense else max(1, events * groups)
    return acc + forward_overhead(groups, fire_stages)


#: Pipeline stages of the backward engine's DELTA data path (the memory words registered, the
#: product ds * h, delta, the products delta * a and delta * g, da, the da write and the product
#: da * count, the row-sum write).
DELTA_STAGES = 7


#: Pipeline stages of the backward engine's PASS data path (the memory words registered, lane
#: products, their sum, the accumulator, the rounded write).
PASS_STAGES = 5


def backward_layer_cycles(l: int, nz: int, n_in: int, groups: int, dense: bool = False) -> int:
    """BSTART, one DELTA cycle per group, the DELTA pipeline draining, BUPD; then for a LIF
    layer with a nonzero da the ``W^T da`` pass over its listed groups and its pipeline
    draining."""
    c = groups + 2 + DELTA_STAGES
    nz = groups if dense else nz
    if l >= 1 and nz:
        c += n_in * nz + PASS_STAGES
    return c


#: An update layer's cycles besides its groups': USTART (the event queue takes the touched
#: groups), UWAIT (it searches them) and the UNEXT that finds none left.
UPDATE_OVERHEAD = 3


def update_layer_cycles(touched: int, n_in: int, groups: int, dense: bool = False) -> int:
    return UPDATE_OVERHEAD + (groups if dense else touched) * (1 + n_in)


def run_cycle_bound(max_width: int, groups: int, max_layers: int, max_timesteps: int,
                    fire_stages: int) -> int:
    """An upper bound of the cycles of any run on a core of this capacity (``groups`` =
    ``ceil(max_width / lanes)``): every weight layer ``max_width`` wide with every input
    spiking, every group listed and touched, at every step, in the serial order (no engine
    overlap). The core's cycle counters are as wide as this needs."""
    fwd = forward_layer_cycles(max_width, max_width, groups, fire_stages, dense=True)
    bwd = backward_layer_cycles(1, groups, max_width, groups, dense=True)
    upd = update_layer_cycles(groups, max_width, groups, dense=True)
    return max_timesteps * (max_layers * (fwd + bwd) + 2) + max_layers * upd + 2


@dataclass(frozen=True)
class ForwardPhase:
    """Weight layer ``layer`` at step ``t`` in the forward engine, from cycle ``start``."""

    t: int
    layer: int
    start: int
    events: int
    groups: int
    acc_cycles: int
    fire_stages: int

    def record_cycle(self, q: int) -> int:
        """Cycle at which the results of group ``q`` appear."""
        return self.start + self.acc_cycles + forward_overhead(0, self.fire_stages) + q


@dataclass(frozen=True)
class RunTiming:
    """Cycles of one run (an inference or a training sample) and of each engine in it."""

    cycles: int
    forward: int
    backward: int
    update: int
    phases: tuple[ForwardPhase, ...]

    @property
    def event_bound(self) -> int:
        """Forward cycles if only weight additions cost time."""
        return sum(p.events * p.groups for p in self.phases)

    def counters(self) -> dict[str, int]:
        return {"total": self.cycles, "forward": self.forward, "backward": self.backward,
                "update": self.update}


@dataclass(frozen=True)
class SampleCounts:
    """What the cycles depend on. ``events[l, t]``: spikes into weight layer ``l`` at step
    ``t``; ``nz[l, t]``: its groups with a nonzero ``da`` (readout: error) at ``t``;
    ``touched[l]``: its groups with a nonzero ``da`` at some step."""

    events: np.ndarray
    nz: np.ndarray | None = None
    touched: np.ndarray | None = None


class _Builder:
    def __init__(self, mm: MemoryMap, dense: bool):
        self.mm, self.dense = mm, dense
        self.now = 0
        self.busy = {"forward": 0, "backward": 0, "update": 0}
        self.phases: list[ForwardPhase] = []

    def fwd(self, t: int, events: np.ndarray, start: int) -> int:
        mm, c = self.mm, 0
        for l in range(mm.n_weight_layers):
            g, n_in = mm.groups(l), mm.fan_in(l)
            cyc = forward_layer_cycles(int(events[l, t]), n_in, g, mm.fire_stages, self.dense)
            acc = cyc - forward_overhead(g, mm.fire_stages)
            self.phases.append(ForwardPhase(t, l, start + c, int(events[l, t]), g, acc,
                                            mm.fire_stages))
            c += cyc
        self.busy["forward"] += c
        return c

    def bwd(self, t: int, nz: np.ndarray) -> int:
        mm = self.mm
        c = sum(backward_layer_cycles(l, int(nz[l, t]), mm.fan_in(l), mm.groups(l), self.dense)
                for l in range(mm.n_weight_layers))
        self.busy["backward"] += c
        return c

    def upd(self, touched: np.ndarray) -> int:
        mm = self.mm
        c = sum(update_layer_cycles(int(touched[l]), mm.fan_in(l), mm.groups(l), self.dense)
                for l in range(mm.n_weight_layers))
        self.busy["update"] += c
        return c

    def stage(self, *engine_cycles) -> None:
        self.now += 1 + max(engine_cycles)

    def finish(self) -> RunTiming:
        return RunTiming(self.now + 1, self.busy["forward"], self.busy["backward"],
                         self.busy["update"], tuple(self.phases))


def infer_timing(mm: MemoryMap, events: np.ndarray, dense: bool = False) -> RunTiming:
    """Timing of an inference run; ``events[l, t]`` = spikes into weight layer ``l`` at ``t``."""
    b = _Builder(mm, dense)
    for t in range(mm.timesteps):
        b.stage(b.fwd(t, events, b.now + 1))
    return b.finish()


def train_timing(mm: MemoryMap, counts: SampleCounts, schedule: str) -> RunTiming:
    """Timing of a training sample under ``schedule`` (``serial``, ``dual`` or ``dense``)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, not {schedule!r}")
    b = _Builder(mm, schedule == "dense")
    T = mm.timesteps
    if schedule == "dual":
        b.stage(b.fwd(0, counts.events, b.now + 1))
        for t in range(1, T):
            b.stage(b.fwd(t, counts.events, b.now + 1), b.bwd(t - 1, counts.nz))
        b.stage(b.bwd(T - 1, counts.nz))
    else:
        for t in range(T):
            b.stage(b.fwd(t, counts.events, b.now + 1))
            b.stage(b.bwd(t, counts.nz))
    b.stage(b.upd(counts.touched))
    return b.finish()


def input_event_counts(frames: torch.Tensor, trace, index: int = 0) -> np.ndarray:
    """(weight layers, T) spike counts into each weight layer, from a sample's input frames
    (T, n_in) and the fixed-model trace of its batch (sample ``index`` of it)."""
    counts = [frames.reshape(frames.shape[-2], -1).sum(-1).numpy()]
    for lt in trace.layers:
        counts.append(lt.spikes[index].sum(-1).numpy())
    return np.stack(counts).astype(np.int64)


def _group_nonzero(x: torch.Tensor, lanes: int) -> np.ndarray:
    """(T, G) whether any value of each group is nonzero, from (T, n) values."""
    t, n = x.shape
    g = -(-n // lanes)
    pad = torch.zeros(t, g * lanes, dtype=x.dtype)
    pad[:, :n] = x
    return (pad.reshape(t, g, lanes) != 0).any(-1).numpy()


def sample_counts(mm: MemoryMap, frames: torch.Tensor, trace, grads=None,
                  index: int = 0) -> SampleCounts:
    """The counts of one sample from its golden trace (and gradients, when it trains)."""
    events = input_event_counts(frames, trace, index)
    if grads is None:
        return SampleCounts(events)
    per_layer = [d[index] for d in grads.da] + [grads.error[index]]
    nzg = [_group_nonzero(x, mm.lanes) for x in per_layer]
    nz = np.stack([z.sum(-1) for z in nzg]).astype(np.int64)
    touched = np.array([z.any(0).sum() for z in nzg], dtype=np.int64)
    return SampleCounts(events, nz, touched)
