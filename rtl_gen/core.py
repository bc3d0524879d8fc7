"""The generated core's top level: host stream in and out, the forward engine, observation."""

from __future__ import annotations

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .forward_engine import ForwardEngine, obs_layout
from .host_loader import HostLoader

__all__ = ["Core"]


class Core(wiring.Component):
    """Top level of the accelerator for one config.

    Parameters
    ----------
    cfg : Config

    Members
    -------
    i : In(stream.Signature(32))
        Host command words (rtl_gen/host_loader.py: :class:`Op`).
    o : Out(stream.Signature(32))
        Host answer words.
    obs : Out(obs_layout(cfg)), obs_valid : Out(1)
        Observation of every fired group (for testbenches; no back-pressure).
    error : Out(1)
        Sticky host-protocol error.

    Cycle behaviour: see :class:`HostLoader` (command words) and :class:`ForwardEngine`
    (a forward pass; exact model in golden/timing.py).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        super().__init__({
            "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
            "obs": Out(obs_layout(cfg)), "obs_valid": Out(1), "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = eng = ForwardEngine(self.cfg)
        m.submodules.loader = ld = HostLoader(self.cfg, eng)
        wiring.connect(m, wiring.flipped(self.i), ld.i)
        wiring.connect(m, ld.o, wiring.flipped(self.o))
        m.d.comb += [
            eng.wr.eq(ld.wr), eng.wr_en.eq(ld.wr_en), eng.start.eq(ld.start),
            ld.done.eq(eng.done), ld.cycles.eq(eng.cycles), eng.rd_row.eq(ld.rd_row),
            eng.rd_lane.eq(ld.rd_lane), ld.rd_data.eq(eng.rd_data),
            self.obs.eq(eng.obs), self.obs_valid.eq(eng.obs_valid), self.error.eq(ld.error),
        ]
        return m
