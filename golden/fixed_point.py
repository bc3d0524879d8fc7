"""Fixed-point primitives: the one rounding rule, saturation and exact integer products.

Every operation of the fixed model (golden/fixed_model.py) is built from these three, and the
RTL implements exactly them (docs/fixed-point.md):

* :func:`rshr` -- arithmetic right shift by ``k`` with rounding half up:
  ``(x + 2**(k-1)) >> k`` (``>>`` floors). ``k = 0`` is the identity.
* :func:`sat` -- clamp to the signed two's-complement range of ``bits``.
* :func:`exact_matmul` -- an integer matrix product. It runs in float64 for speed, which is
  exact because every operand product and partial sum is an integer below 2**53: the config
  validation (rtl_gen/config.py, ``EXACT_BITS``) bounds it from the widths and layer sizes.
"""

from __future__ import annotations

import torch

__all__ = ["rshr", "sat", "lo", "hi", "exact_matmul", "quantize", "dequantize"]

def lo(bits: int) -> int:
    """Smallest value of a signed ``bits``-wide integer."""
    return -(1 << (bits - 1))


def hi(bits: int) -> int:
    """Largest value of a signed ``bits``-wide integer."""
    return (1 << (bits - 1)) - 1


def rshr(x: torch.Tensor, k: int) -> torch.Tensor:
    """Round-half-up arithmetic right shift: ``floor(x / 2**k + 1/2)`` for integer tensors."""
    if k < 0:
        raise ValueError(f"shift must be >= 0, not {k!r}")
    if k == 0:
        return x
    # torch.add + in-place shift: Tensor.__rshift__ costs a Python-level wrapper per call
    return torch.add(x, 1 << (k - 1)).bitwise_right_shift_(k)


def sat(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Saturate to ``[-2**(bits-1), 2**(bits-1) - 1]`` (never wraps)."""
    return x.clamp(lo(bits), hi(bits))


def exact_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` for int64 tensors, exact for the operand widths a config admits."""
    return torch.matmul(a.double(), b.double()).long()


def quantize(x: torch.Tensor, frac: int, bits: int) -> torch.Tensor:
    """Real values to saturated Q(bits, frac) integers, rounding half up."""
    return sat(torch.floor(x.double() * (1 << frac) + 0.5).long(), bits)


def dequantize(q: torch.Tensor, frac: int) -> torch.Tensor:
    """Q(., frac) integers to real values (float64)."""
    return q.double() / (1 << frac)
