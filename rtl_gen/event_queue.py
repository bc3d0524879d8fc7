"""Event queue: a spike vector in, the indices of its active bits out, one per cycle."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["EventQueue", "event_layout"]


def event_layout(width: int) -> data.StructLayout:
    """Payload of an event: the input index and whether it is the vector's last one."""
    return data.StructLayout({"index": unsigned(max(1, (width - 1).bit_length())),
                              "last": unsigned(1)})


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
    The queue registers the offered index and the bits after it (``rest``). The next offer
    comes from one decrement of the bits that will be pending (the loaded vector, or
    ``rest``), a carry chain with no scanning: ``x & ~(x - 1)`` is the lowest set bit of
    ``x`` as a one-hot, whose binary encoding (an OR per index bit) is the index, and
    ``x & (x - 1)`` the bits after it; the borrow out says whether ``x`` is empty. ``index``
    and ``valid`` come from registers, ``last`` from a reduction of ``rest``. ``load`` and
    ``o.ready`` select the chain's input, so they should come from registers (both engines'
    do).
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
        rest = Signal(w)  # the bits after the offered index
        index = Signal.like(self.o.payload.index)
        valid = Signal()
        nxt = Signal(w)  # the bits pending from the next cycle on, if they change
        dec = Signal(w + 1)  # nxt - 1: the borrow (bit w) is set when nxt is empty
        m.d.comb += [nxt.eq(Mux(self.load, self.vector, rest)), dec.eq(nxt - 1)]
        low = Signal(w)  # the lowest set bit of nxt, one-hot
        m.d.comb += low.eq(nxt & ~dec[:w])
        with m.If(self.load | (valid & self.o.ready)):
            m.d.sync += [
                rest.eq(nxt & dec[:w]), valid.eq(~dec[w]),
                index.eq(Cat(Cat(low[i] for i in range(w) if i >> b & 1).any()
                             for b in range(len(index)))),
            ]
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.index.eq(index),
                     self.o.payload.last.eq(~rest.any())]
        return m
