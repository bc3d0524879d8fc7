"""Fixed-point helpers in Amaranth: the hardware twins of golden/fixed_point.py.

``rshr`` rounds half up (``(x + 2**(k-1)) >> k``, arithmetic shift) and ``sat`` clamps to a
signed width; both return values as wide as needed, so nothing wraps before ``sat``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Mux, Value, signed

__all__ = ["rshr", "rshr_var", "shift_for_round", "round_half", "sat", "thermometer",
           "at_most"]


def rshr(x, k: int):
    """Round-half-up arithmetic right shift by a constant ``k >= 0``: ``(x + 2**(k-1)) >> k``,
    built as ``((x >> (k - 1)) + 1) >> 1`` (the same value), so the adder is only as wide as
    the bits kept plus one, with no carry chain through the ``k - 1`` bits dropped."""
    if k < 0:
        raise ValueError(f"shift must be >= 0, not {k!r}")
    if k == 0:
        return x
    return round_half(Value.cast(x).shift_right(k - 1))


def sat(x, bits: int):
    """Saturate the signed value ``x`` to ``bits`` bits (result shape ``signed(bits)``).

    ``x`` fits when its bits from ``bits - 1`` up are all equal (copies of the sign): a
    reduction over those bits, no comparator (on an iCE40 or ECP5 each ``x > hi`` or
    ``x < lo`` would be a carry chain as wide as ``x``). An unsigned ``x`` is taken with a
    zero sign bit."""
    x = Value.cast(x)
    if not x.shape().signed:
        x = Cat(x, Const(0, 1)).as_signed()
    hi, lo = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    if len(x) <= bits:
        return x.as_signed()
    top = x[bits - 1:]
    return Mux(top.all() | ~top.any(), x[:bits].as_signed(),
               Mux(x[-1], Const(lo, signed(bits)), Const(hi, signed(bits))))


def sat_sub(a, b, bits: int):
    """``sat(a - b, bits)`` for ``a`` of at most ``bits`` signed bits and a wider ``b``.

    ``b`` is saturated to ``bits + 1`` bits first, which changes nothing (when ``b`` is
    beyond that range, ``a - b`` is beyond ``bits`` bits either way, on the same side): the
    subtraction is ``bits + 2`` wide, not as wide as ``b``, and the check of ``b``'s high
    bits runs beside its carry chain rather than after it. A pipeline can register
    ``sat(b, bits + 1)`` a stage ahead and pass that as ``b`` (then not saturated again)."""
    return sat(a - sat(b, bits + 1), bits)


def rshr_var(x, s, offset: int = 0):
    """Round-half-up arithmetic right shift by ``s + offset``: a run-time amount ``s`` (an
    unsigned signal) plus a constant ``offset >= 0``.

    Built as ``((x >> (s + offset - 1)) + 1) >> 1`` (for a total shift of at least 1), which
    equals ``(x + 2**(s+offset-1)) >> (s+offset)``: the shifter and the adder are as wide as
    ``x`` less the ``offset - 1`` bits the constant part drops. The direct form needs a
    ``2**len(s)``-bit rounding constant, adder and shifter (64 bits for a 6-bit shift). A
    shift past ``x``'s width leaves 0 or -1, and both round to 0. It is
    ``round_half(shift_for_round(x, s, offset))``: a pipeline may register the shifter's
    output between the two.
    """
    return round_half(shift_for_round(x, s, offset))


def shift_for_round(x, s, offset: int = 0):
    """The shifter of :func:`rshr_var`: ``x`` shifted right by ``s + offset - 1`` (by -1,
    i.e. ``x << 1``, when ``s + offset = 0``), so that :func:`round_half` finishes it."""
    if offset < 0:
        raise ValueError(f"offset must be >= 0, not {offset!r}")
    x, s = Value.cast(x), Value.cast(s)
    if offset >= 1:
        return x.shift_right(offset - 1) >> s
    return Mux(s == 0, x << 1, x >> (s - 1)[:len(s)])


def round_half(y):
    """The adder of :func:`rshr_var`: ``(y + 1) >> 1``, rounding the last halving half up."""
    return (Value.cast(y) + 1) >> 1


def thermometer(n, width: int):
    """``Cat(i < n for i in range(width))`` for an unsigned ``n`` of any width: the first
    ``min(n, width)`` bits set.

    Built from equality decoders of ``n``'s high and low halves and OR chains, without
    comparators: on an iCE40 or ECP5 every ``i < n`` would be a carry chain as wide as ``n``
    (``width`` of them), this is about one LUT per output bit.
    """
    n = Value.cast(n)
    b = max(1, (width - 1).bit_length())  # every i < width is below 2**b
    big = n[b:].any() if len(n) > b else Const(0)  # n >= 2**b: all ones
    nb = n[:b]  # zero-extended to b bits when n is narrower
    if len(nb) < b:
        nb = Cat(nb, Const(0, b - len(nb)))
    h = b // 2
    lo, hi = nb[:h], nb[h:]

    def above(x, count):
        """``eq[a] = (x == a)`` and ``gt[a] = (x > a)`` for ``a < count``."""
        eq = [x == a for a in range(1 << len(x))]
        gt = [Const(0)] * len(eq)
        for a in range(len(eq) - 2, -1, -1):
            gt[a] = gt[a + 1] | eq[a + 1]
        return eq[:count], gt[:count]

    eq_hi, gt_hi = above(hi, 1 << (b - h))
    _, gt_lo = above(lo, 1 << h) if h else ([], [Const(0)])
    return Cat(big | gt_hi[i >> h] | (eq_hi[i >> h] & gt_lo[i & ((1 << h) - 1)])
               for i in range(width))


def at_most(x, c: int):
    """``x <= c`` for an unsigned ``x`` and a constant ``c >= 0``, as a reduction of the bits
    above ``c``'s and a compare of the bits below: a compare as wide as ``c``, not ``x`` (an
    iCE40 maps a compare to a carry chain of ``x``'s width; a 32-bit one is about 10 ns)."""
    x = Value.cast(x)
    if c < 0:
        raise ValueError(f"bound must be >= 0, not {c!r}")
    b = c.bit_length()
    if len(x) <= b:  # (no constant compare: Verilator's lint rejects one)
        return Const(1) if c >= (1 << len(x)) - 1 else x <= c
    high = x[b:] == 0
    return high if c == (1 << b) - 1 else high & (x[:b] <= c)
