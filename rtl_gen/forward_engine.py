"""Forward engine: all layers of the network for T steps, event-driven, on SIMD lanes."""

from __future__ import annotations

import math

from amaranth.hdl import Array, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .event_queue import EventQueue
from .lif_unit import LIFUnit
from .memory_map import MemoryMap

__all__ = ["ForwardEngine", "WriteTarget", "write_layout", "obs_layout", "acc_bits"]


class WriteTarget:
    """Memories the host can write (``write_layout().target``)."""

    WEIGHT, THRESHOLD, GAIN, FRAME = 0, 1, 2, 3


def acc_bits(cfg) -> int:
    """Width of an exact weight sum: ``w_bits + ceil(log2(max fan-in + 1))``."""
    return cfg.fixed.w_bits + math.ceil(math.log2(max(cfg.network.layers[:-1]) + 1))


def write_layout() -> data.StructLayout:
    """One word written into an engine memory: ``row`` and ``lane`` (weights), ``row``
    (thresholds, gains: ``l * T + t``), or ``row`` = frame and ``lane`` = word (frames)."""
    return data.StructLayout({"target": unsigned(2), "row": unsigned(24), "lane": unsigned(8),
                              "data": unsigned(32)})


def obs_layout(cfg) -> data.StructLayout:
    """What the engine reports for each group it fires (the testbench's view)."""
    mm = MemoryMap.of(cfg)
    v = signed(cfg.fixed.v_bits)
    lanes = cfg.hardware.lanes
    return data.StructLayout({
        "cycle": unsigned(32),
        "t": unsigned(8),
        "layer": unsigned(4),
        "group": unsigned(max(1, (mm.max_groups - 1).bit_length())),
        "spike": unsigned(lanes),
        "u_pre": data.ArrayLayout(v, lanes),
        "u_post": data.ArrayLayout(v, lanes),
        "value": data.ArrayLayout(v, lanes),  # readout o (readout layer) or surrogate h
    })


def _bits_for(n: int) -> int:
    return max(1, (n - 1).bit_length())


class ForwardEngine(wiring.Component):
    """Runs the forward pass of one sample: every weight layer at every step.

    Parameters
    ----------
    cfg : Config

    Members
    -------
    wr : In(write_layout()) and wr_en : In(1)
        Host writes into the weight, threshold, gain and frame memories (one word a cycle).
    start : In(1)
        Start a forward pass (ignored while ``busy``).
    busy : Out(1)
        A pass is running.
    done : Out(1)
        High for one cycle when the pass has ended.
    cycles : Out(32)
        Cycles of the last (or current) pass: what golden/timing.py predicts.
    rd_row, rd_lane : In
        Readout memory address; ``rd_data`` : Out(signed(v_bits)) one cycle later.
    obs : Out(obs_layout(cfg)) and obs_valid : Out(1)
        One record per fired group (see golden/timing.py for when).

    Cycle behaviour (golden/timing.py is the exact model): per step and weight layer, LOAD and
    START (1 cycle each), ACC (one cycle per active input and group, at least 1), FIRE (one
    cycle per group) and DRAIN (1). Memories are banked by lane (rtl_gen/memory_map.py).
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.mm = MemoryMap.of(cfg)
        self.acc_bits = acc_bits(cfg)
        v = signed(cfg.fixed.v_bits)
        lanes = cfg.hardware.lanes
        super().__init__({
            "wr": In(write_layout()), "wr_en": In(1),
            "start": In(1), "busy": Out(1), "done": Out(1), "cycles": Out(32),
            "rd_row": In(_bits_for(max(self.mm.readout_rows, 2))),
            "rd_lane": In(_bits_for(max(lanes, 2))), "rd_data": Out(v),
            "obs": Out(obs_layout(cfg)), "obs_valid": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg, mm = self.cfg, self.mm
        f, lanes, T = cfg.fixed, cfg.hardware.lanes, cfg.timesteps
        K = mm.n_weight_layers
        vb, wb = f.v_bits, f.w_bits
        v = signed(vb)

        # ---- memories ------------------------------------------------------------------
        wmem = [Memory(shape=signed(wb), depth=mm.weight_rows, init=[]) for _ in range(lanes)]
        amem = [Memory(shape=signed(self.acc_bits), depth=mm.max_groups, init=[])
                for _ in range(lanes)]
        umem = [Memory(shape=v, depth=max(mm.membrane_rows, 1), init=[]) for _ in range(lanes)]
        omem = [Memory(shape=v, depth=mm.readout_rows, init=[]) for _ in range(lanes)]
        n_par = max(mm.n_lif * T, 1)
        thmem = Memory(shape=v, depth=n_par, init=[])
        gmem = Memory(shape=v, depth=n_par, init=[])
        fmem = Memory(shape=unsigned(32 * mm.frame_words), depth=T, init=[])
        for name, mems in (("wmem", wmem), ("amem", amem), ("umem", umem), ("omem", omem)):
            for k, mem in enumerate(mems):
                m.submodules[f"{name}{k}"] = mem
        m.submodules.thmem, m.submodules.gmem, m.submodules.fmem = thmem, gmem, fmem

        w_wp = [mem.write_port() for mem in wmem]
        w_rp = [mem.read_port() for mem in wmem]
        a_wp = [mem.write_port() for mem in amem]
        a_rp = [mem.read_port(transparent_for=(wp,)) for mem, wp in zip(amem, a_wp)]
        u_wp = [mem.write_port() for mem in umem]
        u_rp = [mem.read_port() for mem in umem]
        o_wp = [mem.write_port() for mem in omem]
        o_rp = [mem.read_port() for mem in omem]
        th_wp, th_rp = thmem.write_port(), thmem.read_port()
        g_wp, g_rp = gmem.write_port(), gmem.read_port()
        f_wp, f_rp = fmem.write_port(granularity=32), fmem.read_port()

        # ---- host writes ----------------------------------------------------------------
        wr = self.wr
        for k in range(lanes):
            m.d.comb += [w_wp[k].addr.eq(wr.row), w_wp[k].data.eq(wr.data[:wb]),
                         w_wp[k].en.eq(self.wr_en & (wr.target == WriteTarget.WEIGHT)
                                       & (wr.lane == k))]
        m.d.comb += [
            th_wp.addr.eq(wr.row), th_wp.data.eq(wr.data[:vb]),
            th_wp.en.eq(self.wr_en & (wr.target == WriteTarget.THRESHOLD)),
            g_wp.addr.eq(wr.row), g_wp.data.eq(wr.data[:vb]),
            g_wp.en.eq(self.wr_en & (wr.target == WriteTarget.GAIN)),
            f_wp.addr.eq(wr.row), f_wp.data.eq(wr.data.replicate(mm.frame_words)),
        ]
        with m.If(self.wr_en & (wr.target == WriteTarget.FRAME)):
            m.d.comb += f_wp.en.eq(1 << wr.lane[:_bits_for(max(mm.frame_words, 2))])

        # ---- readout reads ----------------------------------------------------------------
        rd_lane_d = Signal.like(self.rd_lane)
        m.d.sync += rd_lane_d.eq(self.rd_lane)
        for k in range(lanes):
            m.d.comb += o_rp[k].addr.eq(self.rd_row)
        m.d.comb += self.rd_data.eq(Array(p.data for p in o_rp)[rd_lane_d])

        # ---- per-layer constants ----------------------------------------------------------
        groups = Array(Const(mm.groups(l), 16) for l in range(K))
        wbase = Array(Const(mm.wbase[l], 24) for l in range(K))
        ubase = Array(Const(mm.ubase[l] if l < mm.n_lif else 0, 16) for l in range(K))
        n_out = Array(Const(mm.layers[l + 1], 16) for l in range(K))
        in_mask = Array(Const((1 << mm.layers[l]) - 1, max(mm.layers[0], mm.spike_width))
                        for l in range(K))

        # ---- state ------------------------------------------------------------------------
        t = Signal(range(T))
        l = Signal(range(max(K, 2)))
        q = Signal(range(max(mm.max_groups, 2)))
        cycles = Signal(32)
        vth_r = Signal(v)
        gain_r = Signal(v)
        spk_vec = Signal(mm.spike_width)
        is_readout = Signal()
        last_layer = l == K - 1
        m.d.comb += [self.cycles.eq(cycles), is_readout.eq(last_layer)]

        eq_width = max(mm.layers[0], mm.spike_width)
        m.submodules.events = events = EventQueue(eq_width)

        acc_issue = Signal()  # an ACC read was issued last cycle
        acc_q = Signal.like(q)
        fire_issue = Signal()  # a FIRE read was issued last cycle
        fire_q = Signal.like(q)
        m.d.sync += [acc_issue.eq(0), fire_issue.eq(0)]

        g_now = groups[l]
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += [t.eq(0), l.eq(0), cycles.eq(0)]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += [self.busy.eq(1), f_rp.addr.eq(t), th_rp.addr.eq(l * T + t),
                             g_rp.addr.eq(l * T + t)]
                m.d.sync += cycles.eq(cycles + 1)
                m.next = "START"
            with m.State("START"):
                m.d.comb += [self.busy.eq(1), events.load.eq(1)]
                with m.If(l == 0):
                    m.d.comb += events.vector.eq(f_rp.data[:mm.layers[0]])
                with m.Else():
                    m.d.comb += events.vector.eq(spk_vec & in_mask[l])
                m.d.sync += [vth_r.eq(th_rp.data), gain_r.eq(g_rp.data), q.eq(0),
                             cycles.eq(cycles + 1)]
                m.next = "ACC"
            with m.State("ACC"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += cycles.eq(cycles + 1)
                with m.If(events.o.valid):
                    addr = wbase[l] + events.o.payload.index * g_now + q
                    for k in range(lanes):
                        m.d.comb += [w_rp[k].addr.eq(addr), a_rp[k].addr.eq(q)]
                    m.d.sync += [acc_issue.eq(1), acc_q.eq(q)]
                    with m.If(q == g_now - 1):
                        m.d.comb += events.o.ready.eq(1)
                        m.d.sync += q.eq(0)
                        with m.If(events.o.payload.last):
                            m.next = "FIRE"
                    with m.Else():
                        m.d.sync += q.eq(q + 1)
                with m.Else():
                    m.next = "FIRE"
            with m.State("FIRE"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += [cycles.eq(cycles + 1), fire_issue.eq(1), fire_q.eq(q)]
                for k in range(lanes):
                    m.d.comb += [a_rp[k].addr.eq(q), u_rp[k].addr.eq(ubase[l] + q)]
                with m.If(q == g_now - 1):
                    m.d.sync += q.eq(0)
                    m.next = "DRAIN"
                with m.Else():
                    m.d.sync += q.eq(q + 1)
            with m.State("DRAIN"):
                m.d.comb += self.busy.eq(1)
                m.d.sync += cycles.eq(cycles + 1)
                with m.If(~last_layer):
                    m.d.sync += l.eq(l + 1)
                    m.next = "LOAD"
                with m.Elif(t != T - 1):
                    m.d.sync += [l.eq(0), t.eq(t + 1)]
                    m.next = "LOAD"
                with m.Else():
                    m.next = "DONE"
            with m.State("DONE"):
                m.d.comb += self.done.eq(1)
                m.next = "IDLE"

        # ---- ACC write-back: acc[q] += w (read issued last cycle) ------------------------------
        # ---- FIRE data stage: LIF per lane, write membrane / spikes / readout, clear acc ------
        spikes = Signal(lanes)
        for k in range(lanes):
            lif = LIFUnit(cfg, self.acc_bits)
            m.submodules[f"lif{k}"] = lif
            m.d.comb += [
                lif.acc.eq(a_rp[k].data), lif.gain.eq(gain_r), lif.u.eq(u_rp[k].data), lif.rest.eq(t == 0), lif.vth.eq(vth_r),
                lif.enable.eq(fire_q * lanes + k < n_out[l]),
                spikes[k].eq(lif.spike & ~is_readout),
            ]
            with m.If(acc_issue):
                m.d.comb += [a_wp[k].addr.eq(acc_q), a_wp[k].data.eq(a_rp[k].data + w_rp[k].data),
                             a_wp[k].en.eq(1)]
            with m.Elif(fire_issue):
                m.d.comb += [a_wp[k].addr.eq(fire_q), a_wp[k].data.eq(0), a_wp[k].en.eq(1)]
            m.d.comb += [
                u_wp[k].addr.eq(ubase[l] + fire_q), u_wp[k].data.eq(lif.u_post),
                u_wp[k].en.eq(fire_issue & ~is_readout),
                o_wp[k].addr.eq(t * groups[K - 1] + fire_q), o_wp[k].data.eq(lif.readout),
                o_wp[k].en.eq(fire_issue & is_readout),
                self.obs.u_pre[k].eq(lif.u_pre), self.obs.u_post[k].eq(lif.u_post),
                self.obs.value[k].eq(Mux(is_readout, lif.readout, lif.surrogate)),
            ]
        with m.If(fire_issue & ~is_readout):
            m.d.sync += spk_vec.word_select(fire_q, lanes).eq(spikes)
        m.d.comb += [
            self.obs_valid.eq(fire_issue), self.obs.cycle.eq(cycles), self.obs.t.eq(t),
            self.obs.layer.eq(l), self.obs.group.eq(fire_q), self.obs.spike.eq(spikes),
        ]
        return m
