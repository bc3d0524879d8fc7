"""Fixed-point helpers in Amaranth: the hardware twins of golden/fixed_point.py.

``rshr`` rounds half up (``(x + 2**(k-1)) >> k``, arithmetic shift) and ``sat`` clamps to a
signed width; both return values as wide as needed, so nothing wraps before ``sat``.
"""

from __future__ import annotations

from amaranth.hdl import Const, Mux, signed

__all__ = ["rshr", "rshr_var", "sat"]


def rshr(x, k: int):
    """Round-half-up arithmetic right shift by a constant ``k >= 0``."""
    if k < 0:
        raise ValueError(f"shift must be >= 0, not {k!r}")
    if k == 0:
        return x
    return (x + (1 << (k - 1))) >> k


def sat(x, bits: int):
    """Saturate the signed value ``x`` to ``bits`` bits (result shape ``signed(bits)``)."""
    hi, lo = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    return Mux(x > hi, Const(hi, signed(bits)),
               Mux(x < lo, Const(lo, signed(bits)), x[:bits].as_signed()))


def rshr_var(x, s):
    """Round-half-up arithmetic right shift by a run-time amount ``s`` (an unsigned signal)."""
    return (x + ((Const(1, 1) << s) >> 1)) >> s
