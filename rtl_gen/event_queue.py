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
    ``o`` comes straight from registers. The next offer is found from the bits that will be
    pending (the loaded vector, or the pending bits without the offered one) with one
    decrement, a carry chain with no scanning: ``x & ~(x - 1)`` is the lowest set bit of
    ``x`` as a one-hot (registered with the bits; it is what an accept clears),
    ``x & (x - 1)`` the bits after it and the borrow out says whether ``x`` is empty. The
    index is the one-hot's binary encoding (an OR per index bit). ``load`` and ``o.ready``
    select the chain's input, so they should come from registers (both engines' do).
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
        head = Signal(w)  # the offered index, one-hot (0 when nothing is offered)
        index = Signal.like(self.o.payload.index)
        valid, last = Signal(), Signal(init=1)  # as for an empty vector
        nxt = Signal(w)  # the bits pending from the next cycle on, if they change
        dec = Signal(w + 1)  # nxt - 1: the borrow (bit w) is set when nxt is empty
        m.d.comb += [nxt.eq(Mux(self.load, self.vector, pending & ~head)),
                     dec.eq(nxt - 1)]
        low = Signal(w)
        m.d.comb += low.eq(nxt & ~dec[:w])
        with m.If(self.load | (valid & self.o.ready)):
            m.d.sync += [
                pending.eq(nxt), head.eq(low), valid.eq(~dec[w]),
                index.eq(Cat(Cat(low[i] for i in range(w) if i >> b & 1).any()
                             for b in range(len(index)))),
                last.eq(~(nxt & dec[:w]).any()),
            ]
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.index.eq(index),
                     self.o.payload.last.eq(last)]
        return m
