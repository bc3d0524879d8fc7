"""Host loader: 32-bit command words in, engine memory writes and runs, 32-bit words out."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .forward_engine import WriteTarget, write_layout
from .memory_map import MemoryMap

__all__ = ["HostLoader", "Op"]


class Op:
    """Command opcodes (header bits 31..24; bits 23..0 are a count)."""

    WRITE_WEIGHTS = 0x01  # then a start row, then count words: row-major over the lanes
    WRITE_THRESHOLDS = 0x02  # then a start row (l * T + t), then count words
    WRITE_GAINS = 0x03  # same layout as the thresholds
    WRITE_FRAMES = 0x04  # then a start step t, then count words: frame_words per step
    RUN = 0x10  # run one forward pass; answers one word: its cycle count
    READ_READOUT = 0x11  # answers T * n_out words: o[t][k] in order t, k, sign-extended

    WRITES = {WRITE_WEIGHTS: WriteTarget.WEIGHT, WRITE_THRESHOLDS: WriteTarget.THRESHOLD,
              WRITE_GAINS: WriteTarget.GAIN, WRITE_FRAMES: WriteTarget.FRAME}


class HostLoader(wiring.Component):
    """Decodes the host's command stream into engine writes, runs and readbacks.

    Parameters
    ----------
    cfg : Config

    Members
    -------
    i : In(stream.Signature(32))
        Command words (see :class:`Op`): a header ``op << 24 | count``, for writes a start
        word, then ``count`` data words.
    o : Out(stream.Signature(32))
        Answers: the cycle count after RUN, the readouts after READ_READOUT.
    wr, wr_en, start, done, cycles, rd_row, rd_lane, rd_data
        To and from :class:`rtl_gen.forward_engine.ForwardEngine`.
    error : Out(1)
        Sticky: an unknown opcode was received (it is dropped; the next word is a header).

    Throughput: one word per cycle while writing and while reading back (after one cycle of
    read latency). A header or start word takes one cycle.
    """

    def __init__(self, cfg, engine_ports):
        self.cfg = cfg
        self.mm = MemoryMap.of(cfg)
        ep = engine_ports
        super().__init__({
            "i": In(stream.Signature(32)), "o": Out(stream.Signature(32)),
            "wr": Out(write_layout()), "wr_en": Out(1), "start": Out(1), "done": In(1),
            "cycles": In(32), "rd_row": Out(len(ep.rd_row)), "rd_lane": Out(len(ep.rd_lane)),
            "rd_data": In(signed(cfg.fixed.v_bits)), "error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        mm, lanes = self.mm, self.cfg.hardware.lanes
        count = Signal(24)
        row = Signal(24)
        lane = Signal(8)
        target = Signal(2)
        group = Signal(range(max(mm.max_groups, 2)))  # readback: group within the step
        g_out = mm.groups(mm.n_weight_layers - 1)
        last_group_lanes = mm.layers[-1] - (g_out - 1) * lanes
        error = Signal()
        m.d.comb += [self.error.eq(error), self.wr.row.eq(row), self.wr.lane.eq(lane),
                     self.wr.target.eq(target), self.wr.data.eq(self.i.payload),
                     self.rd_row.eq(row), self.rd_lane.eq(lane)]
        header_op = self.i.payload[24:32]
        header_count = self.i.payload[0:24]
        with m.FSM():
            with m.State("HEADER"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.sync += count.eq(header_count)
                    with m.Switch(header_op):
                        for code, tgt in Op.WRITES.items():
                            with m.Case(code):
                                m.d.sync += target.eq(tgt)
                                m.next = "START_ROW"
                        with m.Case(Op.RUN):
                            m.d.comb += self.start.eq(1)
                            m.next = "WAIT"
                        with m.Case(Op.READ_READOUT):
                            m.d.sync += [row.eq(0), lane.eq(0), group.eq(0)]
                            m.next = "READ"
                        with m.Default():
                            m.d.sync += error.eq(1)
            with m.State("START_ROW"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.sync += [row.eq(self.i.payload[0:24]), lane.eq(0)]
                    m.next = "DATA"
                    with m.If(count == 0):
                        m.next = "HEADER"
            with m.State("DATA"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.comb += self.wr_en.eq(1)
                    m.d.sync += count.eq(count - 1)
                    with m.If(count == 1):
                        m.next = "HEADER"
                    # advance the address: lanes within a row (weights), words within a
                    # frame (frames), or rows (thresholds, gains)
                    wrap = {WriteTarget.WEIGHT: lanes, WriteTarget.FRAME: mm.frame_words}
                    with m.Switch(target):
                        for tgt, n in wrap.items():
                            with m.Case(tgt):
                                with m.If(lane == n - 1):
                                    m.d.sync += [lane.eq(0), row.eq(row + 1)]
                                with m.Else():
                                    m.d.sync += lane.eq(lane + 1)
                        with m.Default():
                            m.d.sync += row.eq(row + 1)
            with m.State("WAIT"):
                with m.If(self.done):
                    m.next = "ANSWER"
            with m.State("ANSWER"):
                m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(self.cycles)]
                with m.If(self.o.ready):
                    m.next = "HEADER"
            with m.State("READ"):  # first address presented; its data arrives next cycle
                m.next = "SEND"
            with m.State("SEND"):
                # The read address is the word after the current one as soon as the current
                # one is accepted, so the next word is there a cycle later: a word a cycle.
                m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(self.rd_data.as_signed())]
                last_lane = Mux(group == g_out - 1, last_group_lanes - 1, lanes - 1)
                with m.If(self.o.ready):
                    with m.If(lane == last_lane):
                        m.d.comb += [self.rd_row.eq(row + 1), self.rd_lane.eq(0)]
                        m.d.sync += [lane.eq(0), row.eq(row + 1),
                                     group.eq(Mux(group == g_out - 1, 0, group + 1))]
                        with m.If(row == mm.readout_rows - 1):
                            m.next = "HEADER"
                    with m.Else():
                        m.d.comb += self.rd_lane.eq(lane + 1)
                        m.d.sync += lane.eq(lane + 1)
        return m
