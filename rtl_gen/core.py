"""The generated core's top level: host stream in and out, command decoder, training engine."""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.learner import lr_shifts

from .engine import TrainingEngine, host_depths, obs_layout
from .host_interface import LR_BITS, HostInterface
from .protocol import READ_ONLY, READ_WRITE

__all__ = ["Core", "lr_ranges"]


def lr_ranges(cfg) -> tuple[tuple[int, int], ...]:
    """Allowed learning-rate shifts (weights, thresholds, gains): every shift the engine
    applies stays below 64 (weights ``v_frac + shift - w_frac``, gains ``w_frac + shift``),
    which every config's shifts and decays satisfy (at most 24 + 16 each)."""
    f = cfg.fixed
    top = (1 << LR_BITS) - 1
    return ((f.w_frac - f.v_frac, top), (0, top), (0, top - f.w_frac))


class Core(wiring.Component):
    """Top level of the accelerator for one config.

    Parameters
    ----------
    cfg : Config

    Members
    -------
    i : In(stream.Signature(32))
        Host command words (docs/protocol.md).
    o : Out(stream.Signature(32))
        Host reply words.
    obs : Out(obs_layout(cfg)), obs_valid : Out(1)
        Observation of every fired forward group (for testbenches; no back-pressure).
    error : Out(8)
        The sticky host-protocol error code.

    Cycle behaviour: :class:`rtl_gen.host_interface.HostInterface` (one command word a cycle,
    one reply word a cycle) and :class:`rtl_gen.engine.TrainingEngine` (a run; exact model in
    golden/timing.py).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        super().__init__({
            "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
            "obs": Out(obs_layout(cfg)), "obs_valid": Out(1), "error": Out(8),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        m.submodules.engine = eng = TrainingEngine(cfg)
        m.submodules.host = hi = HostInterface(host_depths(cfg), READ_WRITE, READ_WRITE | READ_ONLY,
                                               lr_ranges(cfg), lr_shifts(cfg, 1))
        wiring.connect(m, wiring.flipped(self.i), hi.i)
        wiring.connect(m, hi.o, wiring.flipped(self.o))
        for name in ("mem_sel", "mem_addr", "mem_wdata", "mem_we", "mem_re", "run", "train",
                     "label", "lr_w", "lr_th", "lr_g"):
            m.d.comb += getattr(eng, name).eq(getattr(hi, name))
        for name in ("mem_rdata", "done", "cycles", "prog_ok", "n_classes"):
            m.d.comb += getattr(hi, name).eq(getattr(eng, name))
        m.d.comb += [self.obs.eq(eng.obs), self.obs_valid.eq(eng.obs_valid),
                     self.error.eq(hi.error)]
        return m
