"""Timing model: the exact cycle count of each phase of the forward engine.

It is also the performance model: the RTL's cycle counter and the cycle stamp of every
observed record must equal what this model says (sim/ checks both). For one sample the engine
runs, for each step ``t`` and each weight layer ``l`` (LIF layers, then the readout):

======  ===================  ==========================================================
phase   cycles               what happens
======  ===================  ==========================================================
LOAD    1                    read the step's input frame (layer 0), threshold and gain
START   1                    the event queue takes the input spike vector
ACC     max(1, nnz * G)      every active input adds its weight column, ``G`` groups of
                             ``lanes`` outputs, one group per cycle (zeros are skipped)
FIRE    G                    one group per cycle: LIF (or readout) of ``lanes`` neurons
DRAIN   1                    the last group's results are written
======  ===================  ==========================================================

``nnz`` is the number of spikes into the layer at that step and ``G = ceil(n_out / lanes)``.
The record of group ``q`` leaves the engine at ``start + 2 + ACC + q + 1`` (its FIRE cycle
plus the memory read). The event bound is ``sum nnz * G`` over layers and steps; the rest
(``3 + G`` per layer per step, plus one cycle when a layer has no input spikes) is overhead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rtl_gen.memory_map import MemoryMap

__all__ = ["PhaseTiming", "ForwardTiming", "forward_timing", "input_event_counts"]

FIXED_CYCLES = 3  # LOAD + START + DRAIN


@dataclass(frozen=True)
class PhaseTiming:
    """Cycles of weight layer ``layer`` at step ``t``, starting at cycle ``start``."""

    t: int
    layer: int
    start: int
    events: int
    groups: int

    @property
    def acc_cycles(self) -> int:
        return max(1, self.events * self.groups)

    @property
    def cycles(self) -> int:
        return FIXED_CYCLES + self.acc_cycles + self.groups

    def record_cycle(self, q: int) -> int:
        """Cycle at which the results of group ``q`` appear."""
        return self.start + 2 + self.acc_cycles + q + 1


@dataclass(frozen=True)
class ForwardTiming:
    phases: tuple[PhaseTiming, ...]

    @property
    def cycles(self) -> int:
        return sum(p.cycles for p in self.phases)

    @property
    def event_bound(self) -> int:
        return sum(p.events * p.groups for p in self.phases)


def forward_timing(mm: MemoryMap, events: np.ndarray) -> ForwardTiming:
    """Timing of one forward pass; ``events[l, t]`` = spikes into weight layer ``l`` at ``t``."""
    phases, start = [], 0
    for t in range(mm.timesteps):
        for l in range(mm.n_weight_layers):
            p = PhaseTiming(t, l, start, int(events[l, t]), mm.groups(l))
            phases.append(p)
            start += p.cycles
    return ForwardTiming(tuple(phases))


def input_event_counts(frames: torch.Tensor, trace, index: int = 0) -> np.ndarray:
    """(weight layers, T) spike counts into each weight layer, from a sample's input frames
    (T, n_in) and the fixed-model trace of its batch (sample ``index`` of it)."""
    counts = [frames.reshape(frames.shape[-2], -1).sum(-1).numpy()]
    for lt in trace.layers:
        counts.append(lt.spikes[index].sum(-1).numpy())
    return np.stack(counts).astype(np.int64)
