"""Event queue: a spike vector in, the indices of its active bits out, one per cycle."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["EventQueue", "event_layout"]


def event_layout(width: int) -> data.StructLayout:
    """Payload of an event: the input index and whether it is the vector's last one."""
    return data.StructLayout({"index": unsigned(max(1, (width - 1).bit_length())),
                              "last": unsigned(1)})


def _lowest_set(bits, lo: int, hi: int):
    """(any bit set, index of the lowest set bit) of ``bits[lo:hi]``: a balanced tree of
    ``log2(hi - lo)`` levels."""
    if hi - lo == 1:
        return bits[lo], Const(lo, unsigned(max(1, (hi - 1).bit_length())))
    mid = (lo + hi) // 2
    any_lo, idx_lo = _lowest_set(bits, lo, mid)
    any_hi, idx_hi = _lowest_set(bits, mid, hi)
    return any_lo | any_hi, Mux(any_lo, idx_lo, idx_hi)


class EventQueue(wiring.Component):
    """Turns a spike vector into the stream of its active indices, lowest first.

    Parameters
    ----------
    width : int
        Bits of the spike vector.

    Members
    -------
    load : In(1)
        Take ``vector`` (replacing anything pending).
    vector : In(width)
        The spike vector; read in the cycle ``load`` is high.
    o : Out(stream.Signature(event_layout(width)))
        Active indices in increasing order; ``last`` marks the final one. ``valid`` is high
        exactly while bits remain.

    Latency and throughput: a vector loaded in cycle ``c`` offers its first index in cycle
    ``c + 1``; each accepted index is cleared and the next is offered in the following cycle,
    so ``nnz`` indices take ``nnz`` cycles at full rate and an all-zero vector takes none.
    The index comes from a priority encoder over the whole vector (a tree of ``log2(width)``
    levels, no scanning) that looks at the *next* pending bits, so ``o`` comes straight from
    registers: the encoder is not in series with what the consumer does with the index, and
    ``o.ready`` only selects between encodings made without it (two encoders: the loaded
    vector's and the pending bits' without the offered index).
    """

    def __init__(self, width: int):
        if width < 1:
            self._MustUse__silence = True  # a rejected component is not an unused one
            raise ValueError(f"width must be at least 1, not {width!r}")
        self.width = width
        super().__init__({
            "load": In(1),
            "vector": In(width),
            "o": Out(stream.Signature(event_layout(width))),
        })

    def elaborate(self, platform):
        m = Module()
        w = self.width
        pending = Signal(w)
        index = Signal.like(self.o.payload.index)
        valid, last = Signal(), Signal(init=1)  # as for an empty vector
        # the next cycle's offer is encoded for both cases, a vector loaded and the offered
        # index accepted, before ``load`` and ``o.ready`` choose between them and holding:
        # the consumer's accept decision drives a multiplexer, not the encoder
        head = Signal(w)  # one-hot of the offered index
        m.d.comb += head.eq(Const(1, w) << index)
        popped = Signal(w)
        m.d.comb += popped.eq(pending & ~head)

        def offer(bits):
            any_next, index_next = _lowest_set(bits, 0, w)
            m.d.sync += [pending.eq(bits), index.eq(index_next), valid.eq(any_next),
                         last.eq(~_more_than_one(bits, 0, w)[1])]

        with m.If(self.load):
            offer(self.vector)
        with m.Elif(valid & self.o.ready):
            offer(popped)
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.index.eq(index),
                     self.o.payload.last.eq(last)]
        return m


def _more_than_one(bits, lo: int, hi: int):
    """(any bit set, more than one bit set) of ``bits[lo:hi]``: a tree, no carry chain."""
    if hi - lo == 1:
        return bits[lo], Const(0)
    mid = (lo + hi) // 2
    a_lo, m_lo = _more_than_one(bits, lo, mid)
    a_hi, m_hi = _more_than_one(bits, mid, hi)
    return a_lo | a_hi, m_lo | m_hi | (a_lo & a_hi)
