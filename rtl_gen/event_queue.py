"""Event queue: a spike vector in, the indices of its active bits out, one per cycle."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["EventQueue", "event_layout", "lowest_set"]


def event_layout(width: int) -> data.StructLayout:
    """Payload of an event: the input index and whether it is the vector's last one."""
    return data.StructLayout({"index": unsigned(max(1, (width - 1).bit_length())),
                              "last": unsigned(1)})


def lowest_set(x, width: int, m: Module | None = None):
    """``(any, index, below)`` of the ``width`` bits of ``x``: whether any bit is set, the
    index of the lowest set bit (meaningless when none is), and for each bit whether a lower
    bit is set.

    A radix-4 tree, so every output is a logarithmic number of LUTs deep: each block of
    bits has an "any" (an OR of its four sub-blocks'); a block's index is its first
    non-empty sub-block's number above that sub-block's index; a bit's "below" is its
    block's "below" or'ed with the anys of the sub-blocks before it, from the top down.
    (``x & ~(x - 1)`` on a carry chain is one LUT a bit, but a 64-bit chain, which the
    mapper also turns partly into LUT ripples, is about three times as deep.)

    With ``m``, each block's "any" of four bits or more is a net of its own (assigned in
    ``m``, with yosys' ``keep``), so the LUT mapper keeps the tree: left to itself, ABC's area
    recovery relaxes every path up to the design's longest and rebuilt the "below"s of a
    64-bit search as a ripple nine LUTs deep (the iCEBreaker build's worst path at 14 of 15
    nextpnr seeds; docs/synthesis.md, "The sixth round").
    """
    n = 1 << max(0, (width - 1).bit_length())
    bits = [x[i] if i < width else Const(0) for i in range(n)]
    anys: dict[tuple[int, int], object] = {}

    def parts(lo, size):
        r = 4 if size % 4 == 0 else 2
        return [(lo + j * (size // r), size // r) for j in range(r)]

    def any_of(lo, size):
        if (lo, size) not in anys:
            if size == 1:
                anys[lo, size] = bits[lo]
            else:
                anys[lo, size] = Cat(any_of(*p) for p in parts(lo, size)).any()
                if m is not None and size >= 4 and lo < width:
                    kept = Signal(name=f"any_{lo}_{size}", attrs={"keep": 1})
                    m.d.comb += kept.eq(anys[lo, size])
                    anys[lo, size] = kept
        return anys[lo, size]

    def index_of(lo, size):  # the bits of the lowest set bit's offset in the block
        if size == 1:
            return []
        ps = parts(lo, size)
        subs = [index_of(*p) for p in ps]
        hi, low = Const(len(ps) - 1, (len(ps) - 1).bit_length()), subs[-1]
        for j in reversed(range(len(ps) - 1)):
            hi = Mux(any_of(*ps[j]), j, hi)
            low = [Mux(any_of(*ps[j]), a, b) for a, b in zip(subs[j], low)]
        return low + list(hi)

    below = [None] * n

    def fill_below(lo, size, b):  # b: whether a bit below the block is set (None: none is)
        if size == 1:
            below[lo] = Const(0) if b is None else b
            return
        ps = parts(lo, size)
        for j, p in enumerate(ps):
            # the sub-blocks before this one, OR'ed apart from b (which comes later: the
            # mapper keeps b for the last LUT)
            early = Cat(any_of(*q) for q in ps[:j]).any() if j else None
            fill_below(*p, early if b is None else b if early is None else b | early)

    fill_below(0, n, None)
    return any_of(0, n), Cat(index_of(0, n) or [Const(0)]), below[:width]


class EventQueue(wiring.Component):
    """Turns a spike vector into the stream of its active indices, lowest first.

    Parameters
    ----------
    width : int
        Bits of the spike vector.

    Members
    -------
    put : In(1)
        Store ``put_vector`` (replacing anything pending or offered); its first index is
        offered in the second cycle after.
    put_vector : In(width)
        The spike vector stored by ``put``. It feeds only the last LUT in front of a
        register, so a vector built from registers a cycle before its indices are wanted
        costs no logic level of the search.
    o : Out(stream.Signature(event_layout(width)))
        Active indices in increasing order; ``last`` marks the final one. ``valid`` is high
        exactly while bits remain (from the second cycle after ``put`` on).

    Latency and throughput: each accepted index is cleared and the next is offered in the
    following cycle, so ``nnz`` indices take ``nnz`` cycles at full rate and an all-zero
    vector takes none. The queue registers the offered index and the bits after it
    (``pend``); whenever nothing is offered or the offer is taken, it searches ``pend`` (a
    register, nothing in front of it: :func:`lowest_set`) for the next offer and the bits
    after it. ``index`` and ``valid`` come from registers, ``last`` from the search's OR of
    ``pend`` (as deep as the search: the engine ends a vector on ``valid`` instead).
    ``put`` (every bit's last LUT) and ``o.ready`` (every bit's enable) fan out to the whole
    register, so they should come from registers or shallow logic (the engine's do).
    """

    def __init__(self, width: int):
        if width < 1:
            self._MustUse__silence = True  # a rejected component is not an unused one
            raise ValueError(f"width must be at least 1, not {width!r}")
        self.width = width
        super().__init__({
            "put": In(1),
            "put_vector": In(width),
            "o": Out(stream.Signature(event_layout(width))),
        })

    def elaborate(self, platform):
        m = Module()
        w = self.width
        pend = Signal(w)  # the bits after the offered index
        index = Signal.like(self.o.payload.index)
        valid = Signal()
        found, first, below = lowest_set(pend, w, m)
        with m.If(self.put | ~valid | self.o.ready):
            # one LUT a bit: put ? put_vector : pend & below
            m.d.sync += pend.eq(Mux(self.put, self.put_vector, pend & Cat(below)))
            with m.If(self.put):
                m.d.sync += valid.eq(0)
            with m.Else():
                m.d.sync += [valid.eq(found), index.eq(first)]
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.index.eq(index),
                     self.o.payload.last.eq(~found)]
        return m
