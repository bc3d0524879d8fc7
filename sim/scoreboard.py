"""Expected values and cycles of a forward pass, and the checker of observed records.

Shared by every testbench (amaranth.sim and cocotb): the golden fixed model gives each
membrane, spike, surrogate and readout value; golden/timing.py gives each record's cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from golden.fixed_model import FixedArith
from golden.learner import Learner, Trace
from golden.timing import ForwardTiming, forward_timing, input_event_counts
from rtl_gen.forward_engine import obs_layout
from rtl_gen.memory_map import MemoryMap

__all__ = ["Mismatch", "ForwardScoreboard", "decode_obs"]


class Mismatch(AssertionError):
    """An RTL value or cycle differs from the golden models."""


def decode_obs(cfg, value: int) -> dict:
    """Split an observation word (the integer of ``obs``) into its fields."""
    layout = obs_layout(cfg)
    out = {}
    for name, fld in layout:
        width = fld.width
        raw = (value >> fld.offset) & ((1 << width) - 1)
        shape = fld.shape
        if hasattr(shape, "elem_shape"):  # ArrayLayout of signed values
            ew = shape.elem_shape.width
            vals = []
            for k in range(shape.length):
                x = (raw >> (k * ew)) & ((1 << ew) - 1)
                vals.append(x - (1 << ew) if x >> (ew - 1) else x)
            out[name] = vals
        else:
            out[name] = raw
    return out


@dataclass
class ForwardScoreboard:
    """Expectations for one sample through a core loaded with ``params`` (fixed, int)."""

    cfg: object
    params: object
    frames: torch.Tensor  # (T, n_in) uint8
    trace: object = None  # the golden trace of this sample (batch 1); computed if None
    timing: ForwardTiming = field(init=False)
    expected: dict = field(init=False)
    seen: set = field(default_factory=set)

    def __post_init__(self):
        cfg = self.cfg
        ar = FixedArith(cfg)
        if self.trace is None:
            self.trace = Learner(cfg, ar, self.params).infer(self.frames.unsqueeze(0))
        self.mm = MemoryMap.of(cfg)
        self.timing = forward_timing(self.mm, input_event_counts(self.frames, self.trace))
        self.readout = self.trace.out[0].numpy()  # (T, n_out)
        self.surrogate = [ar.surrogate(lt.u_pre[0] - self.params.vth[l].view(-1, 1)).numpy()
                          for l, lt in enumerate(self.trace.layers)]
        self.expected = {}
        for ph in self.timing.phases:
            for q in range(ph.groups):
                self.expected[(ph.t, ph.layer, q)] = ph.record_cycle(q)

    @classmethod
    def batch(cls, cfg, params, frames: torch.Tensor) -> list["ForwardScoreboard"]:
        """Scoreboards of samples ``frames`` (N, T, n_in) from one batched golden run."""
        tr = Learner(cfg, FixedArith(cfg), params).infer(frames)
        out = []
        for i in range(len(frames)):
            one = Trace(tr.t0, [lt.select(slice(i, i + 1)) for lt in tr.layers],
                        tr.out[i:i + 1])
            out.append(cls(cfg, params, frames[i], one))
        return out

    def check(self, rec: dict) -> None:
        """Compare one observed record; raise :class:`Mismatch` naming what differs."""
        t, l, q, cyc = rec["t"], rec["layer"], rec["group"], rec["cycle"]
        key = (t, l, q)
        if key not in self.expected:
            raise Mismatch(f"unexpected record: layer {l}, step {t}, group {q} at cycle {cyc}")
        if key in self.seen:
            raise Mismatch(f"record repeated: layer {l}, step {t}, group {q} at cycle {cyc}")
        self.seen.add(key)
        want_cycle = self.expected[key]
        if cyc != want_cycle:
            raise Mismatch(f"layer {l}, step {t}, group {q}: record at cycle {cyc}, timing "
                           f"model says {want_cycle}")
        lanes = self.mm.lanes
        n_out = self.mm.layers[l + 1]
        readout = l == self.mm.n_weight_layers - 1
        for k in range(lanes):
            i = q * lanes + k
            if i >= n_out:
                continue
            if readout:
                pairs = {"readout o": (rec["value"][k], int(self.readout[t, i]))}
            else:
                lt = self.trace.layers[l]
                pairs = {
                    "u_pre": (rec["u_pre"][k], int(lt.u_pre[0, t, i])),
                    "u_post": (rec["u_post"][k], int(lt.u_post[0, t, i])),
                    "spike": ((rec["spike"] >> k) & 1, int(lt.spikes[0, t, i])),
                    "surrogate": (rec["value"][k], int(self.surrogate[l][t, i])),
                }
            for name, (got, want) in pairs.items():
                if got != want:
                    raise Mismatch(f"layer {l}, step {t}, neuron {i}: {name} = {got}, golden "
                                   f"fixed model says {want} (cycle {cyc})")

    def finish(self, total_cycles: int | None = None) -> None:
        """Every expected record was seen; the run took the predicted cycles."""
        missing = sorted(set(self.expected) - self.seen)
        if missing:
            t, l, q = missing[0]
            raise Mismatch(f"{len(missing)} records never observed, first: layer {l}, step {t}, "
                           f"group {q}")
        if total_cycles is not None and total_cycles != self.timing.cycles:
            raise Mismatch(f"forward pass took {total_cycles} cycles, timing model says "
                           f"{self.timing.cycles}")

    def check_readout(self, readout: np.ndarray) -> None:
        diff = np.argwhere(readout != self.readout)
        if len(diff):
            t, k = diff[0]
            raise Mismatch(f"readout memory, step {t}, class {k}: {readout[t, k]}, golden fixed "
                           f"model says {self.readout[t, k]}")
