"""Rounding and saturation edges of the fixed-point primitives (hypothesis properties)."""

from fractions import Fraction
import math

import torch
from hypothesis import given, settings, strategies as st

from golden.fixed_point import dequantize, exact_matmul, hi, lo, quantize, rshr, sat

ints = st.integers(min_value=-(2**40), max_value=2**40)


@given(ints, st.integers(0, 20))
def test_rshr_is_round_half_up(x, k):
    got = int(rshr(torch.tensor([x]), k)[0])
    assert got == math.floor(Fraction(x, 2**k) + Fraction(1, 2))


@given(st.integers(-(2**20), 2**20), st.integers(1, 12))
def test_rshr_ties_go_up_and_error_is_at_most_half_lsb(q, k):
    tie = q * 2**k + 2 ** (k - 1)  # exactly halfway between q and q + 1
    assert int(rshr(torch.tensor([tie]), k)[0]) == q + 1
    x = torch.tensor([tie - 1, tie, tie + 1])
    err = (rshr(x, k).double() * 2**k - x.double()).abs()
    assert float(err.max()) <= 2 ** (k - 1)


@given(ints, st.integers(2, 32))
def test_sat_clamps_never_wraps(x, bits):
    y = int(sat(torch.tensor([x]), bits)[0])
    assert lo(bits) <= y <= hi(bits)
    assert y == min(max(x, lo(bits)), hi(bits))


@given(st.integers(2, 32))
def test_sat_edges(bits):
    t = torch.tensor([lo(bits) - 1, lo(bits), hi(bits), hi(bits) + 1])
    assert sat(t, bits).tolist() == [lo(bits), lo(bits), hi(bits), hi(bits)]


@settings(max_examples=50)
@given(st.integers(1, 16), st.integers(1, 300), st.integers(0, 2**31))
def test_exact_matmul_equals_python_integers_at_extremes(n, m, seed):
    g = torch.Generator().manual_seed(seed)
    # widest operands a config admits: 24-bit weights times 24-bit errors over 300 terms
    a = torch.randint(lo(24), hi(24) + 1, (n, m), generator=g)
    b = torch.randint(lo(24), hi(24) + 1, (m, 3), generator=g)
    a[0, :] = lo(24)
    b[:, 0] = lo(24)
    ref = [[sum(int(a[i, k]) * int(b[k, j]) for k in range(m)) for j in range(3)]
           for i in range(n)]
    assert exact_matmul(a, b).tolist() == ref


@given(st.floats(-100, 100, allow_nan=False), st.integers(0, 14))
def test_quantize_rounds_and_saturates(x, frac):
    xt = torch.tensor([x])
    x = float(xt[0])  # (the float32 value quantize sees: 64.23046505988785 is 64.23046875)
    q = int(quantize(xt, frac, 16)[0])
    exact = math.floor(x * 2**frac + 0.5)
    assert q == min(max(exact, lo(16)), hi(16))
    if lo(16) <= exact <= hi(16):
        assert abs(float(dequantize(torch.tensor([q]), frac)[0]) - x) <= 2 ** -(frac + 1)
