"""Expected values and cycles of a run, and the checkers of observed records and read-back
parameters.

Shared by every testbench (amaranth.sim and cocotb): the golden fixed model gives each
membrane, spike, surrogate, readout and parameter value; golden/timing.py gives each record's
cycle and each cycle counter.
"""

from __future__ import annotations

import numpy as np
import torch

from golden.fixed_model import FixedArith
from golden.learner import Learner, lr_shifts
from golden.timing import infer_timing, sample_counts, train_timing
from rtl_gen.engine import obs_layout
from rtl_gen.memory_map import MemoryMap

__all__ = ["Mismatch", "ForwardScoreboard", "TrainScoreboard", "decode_obs", "check_params"]


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


def check_params(got, want, when: str) -> None:
    """Every weight, threshold and gain read back equals the golden model's."""
    pairs = [(f"W{l}", g, w) for l, (g, w) in enumerate(zip(got.w, want.w))]
    pairs += [("W_out", got.w_out, want.w_out), ("vth", got.vth, want.vth),
              ("gain", got.gain, want.gain)]
    for name, g, w in pairs:
        g, w = torch.as_tensor(g), torch.as_tensor(w)
        if g.shape != w.shape:
            raise Mismatch(f"{when}: {name} has shape {tuple(g.shape)}, golden {tuple(w.shape)}")
        diff = (g != w).nonzero()
        if len(diff):
            idx = tuple(int(i) for i in diff[0])
            raise Mismatch(f"{when}: {name}{list(idx)} = {int(g[idx])}, golden fixed model says "
                           f"{int(w[idx])} ({len(diff)} values differ)")


class ForwardScoreboard:
    """Expectations of the forward records of one run (sample ``index`` of ``trace``).

    ``vth`` are the thresholds the forward pass used (L, T); ``timing`` the run's
    :class:`golden.timing.RunTiming` (its phases give each record's cycle).
    """

    def __init__(self, cfg, trace, vth, timing, index: int = 0):
        self.cfg, self.trace, self.index, self.timing = cfg, trace, index, timing
        ar = FixedArith(cfg)
        self.mm = MemoryMap.of(cfg)
        self.readout = trace.out[index].numpy()  # (T, n_out)
        self.surrogate = [ar.surrogate(lt.u_pre[index] - vth[l].view(-1, 1)).numpy()
                          for l, lt in enumerate(trace.layers)]
        self.expected = {(ph.t, ph.layer, q): ph.record_cycle(q)
                         for ph in timing.phases for q in range(ph.groups)}
        self.seen: set = set()
        self.events = np.zeros((self.mm.n_weight_layers, self.mm.timesteps), dtype=np.int64)
        for ph in timing.phases:
            self.events[ph.layer, ph.t] = ph.events

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
        lanes, b = self.mm.lanes, self.index
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
                    "u_pre": (rec["u_pre"][k], int(lt.u_pre[b, t, i])),
                    "u_post": (rec["u_post"][k], int(lt.u_post[b, t, i])),
                    "spike": ((rec["spike"] >> k) & 1, int(lt.spikes[b, t, i])),
                    "surrogate": (rec["value"][k], int(self.surrogate[l][t, i])),
                }
            for name, (got, want) in pairs.items():
                if got != want:
                    raise Mismatch(f"layer {l}, step {t}, neuron {i}: {name} = {got}, golden "
                                   f"fixed model says {want} (cycle {cyc})")

    def finish(self) -> None:
        """Every expected record was seen."""
        missing = sorted(set(self.expected) - self.seen)
        if missing:
            t, l, q = missing[0]
            raise Mismatch(f"{len(missing)} records never observed, first: layer {l}, step {t}, "
                           f"group {q}")

    def check_readout(self, readout: np.ndarray) -> None:
        diff = np.argwhere(readout != self.readout)
        if len(diff):
            t, k = diff[0]
            raise Mismatch(f"readout memory, step {t}, class {k}: {readout[t, k]}, golden fixed "
                           f"model says {self.readout[t, k]}")


class TrainScoreboard:
    """The golden learner next to a core: predicts each run and checks what the core did.

    ``params`` (fixed) are what the core was loaded with; each :meth:`expect` advances the
    golden learner by one sample (training when ``label`` is not None) and returns the
    expectation that :meth:`check` compares with the core's :class:`rtl_gen.driver.SampleResult`
    and observed forward records.
    """

    def __init__(self, cfg, params, epoch: int = 1):
        self.cfg = cfg
        self.mm = MemoryMap.of(cfg)
        self.learner = Learner(cfg, FixedArith(cfg), params.clone())
        self.shifts = lr_shifts(cfg, epoch)
        self.samples = 0

    def expect(self, frames, label):
        vth = self.learner.params.vth.clone()
        if label is None:
            tr = self.learner.infer(frames.unsqueeze(0))
            timing = infer_timing(self.mm, sample_counts(self.mm, frames, tr).events,
                                  dense=self.cfg.hardware.schedule == "dense")
        else:
            tr, g = self.learner.train_sample(frames, int(label), self.shifts)
            timing = train_timing(self.mm, sample_counts(self.mm, frames, tr, g),
                                  self.cfg.hardware.schedule)
        self.samples += 1
        return ForwardScoreboard(self.cfg, tr, vth, timing)

    def check(self, sb: "ForwardScoreboard", res, records=None) -> None:
        when = f"sample {self.samples}"
        want = sb.timing.counters()
        if res.counters != want or res.cycles != want["total"]:
            raise Mismatch(f"{when}: cycle counters {res.counters} (reply {res.cycles}), timing "
                           f"model says {want}")
        sb.check_readout(res.readout)
        events = sb.events
        if not np.array_equal(res.counts, events):
            raise Mismatch(f"{when}: input event counts {res.counts.tolist()}, golden "
                           f"{events.tolist()}")
        if records is not None:
            for r in records:
                sb.check(decode_obs(self.cfg, r))
            sb.finish()
        if res.params is not None:
            check_params(res.params, self.learner.params, f"after {when}")
