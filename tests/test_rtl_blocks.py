"""Small RTL blocks in amaranth.sim against the golden fixed-point model."""

import random

import pytest
import torch
from amaranth.hdl import Cat, Module, Signal, signed
from amaranth.sim import Simulator

from golden.fixed_model import FixedArith
from golden.fixed_point import hi, lo, rshr
from golden.fixed_point import sat as golden_sat
from rtl_gen.config import load_config
from rtl_gen.event_queue import EventQueue, lowest_set
from rtl_gen.engine import acc_bits
from rtl_gen.fixed_hw import rshr as hw_rshr
from rtl_gen.fixed_hw import at_most, rshr_var, sat, sat_sub, thermometer
from rtl_gen.lif_unit import LIFUnit


def _lif_vectors(cfg, n, seed):
    g = random.Random(seed)
    vb, ab = cfg.fixed.v_bits, acc_bits(cfg)
    edges_v = [lo(vb), lo(vb) + 1, -1, 0, 1, hi(vb) - 1, hi(vb)]
    edges_a = [lo(ab), -1, 0, 1, hi(ab)]
    rows = []
    for i in range(n):
        pick = (lambda e, b: g.choice(e)) if i % 4 == 0 else (lambda e, b: g.randint(lo(b), hi(b)))
        rows.append({
            "acc": pick(edges_a, ab) if i % 3 else g.randint(-(1 << 14), 1 << 14),
            "gain": pick(edges_v, vb), "u": pick(edges_v, vb),
            "vth": pick(edges_v, vb) if i % 2 else g.randint(0, 2 << cfg.fixed.v_frac),
            "rest": int(i % 5 == 0), "enable": int(i % 7 != 0),
        })
    return rows


def _golden_lif(cfg, rows):
    ar = FixedArith(cfg)
    col = lambda k: torch.tensor([r[k] for r in rows])  # noqa: E731
    acc, gain, u, vth = col("acc"), col("gain"), col("u"), col("vth")
    u = torch.where(col("rest") > 0, 0, u)
    if cfg.network.weight_centering:
        cur = ar.scale_gain(acc, gain)
    else:
        cur = ar.acc_to_v(acc)
    u_pre = ar.leak_integrate(u, cur)
    spike = (u_pre >= vth) & (col("enable") > 0)
    u_post = torch.stack([ar.reset(u_pre[i:i + 1], spike[i:i + 1], int(vth[i]))[0]
                          for i in range(len(rows))])
    return {"current": cur, "u_pre": u_pre, "spike": spike.long(), "u_post": u_post,
            "surrogate": ar.surrogate(u_pre - vth), "readout": ar.acc_to_v(acc)}


@pytest.mark.parametrize("network", [
    {"leak": 0.5, "reset": "soft", "weight_centering": True, "surrogate": "triangle"},
    {"leak": 0.75, "reset": "hard", "weight_centering": False, "surrogate": "rectangle",
     "surrogate_width": 0.5},
    {"leak": 0.25, "reset": "soft", "weight_centering": True, "surrogate": "triangle",
     "surrogate_width": 4.0},
    {"leak": 1.0, "reset": "soft", "weight_centering": False, "surrogate": "triangle",
     "surrogate_width": 0.25},
])
@pytest.mark.parametrize("stages", [1, 2, 3])
def test_lif_unit_equals_golden(network, stages):
    """Every output equals the golden model's; pipelined, each belongs to the cycle its
    docstring says (vector i's acc, gain, u and rest go in at cycle i, its vth and enable and
    its outputs are at cycle i + stages - 1, its current at i + max(stages - 2, 0))."""
    cfg = load_config("default").replace(network=network)
    rows = _lif_vectors(cfg, 300, seed=len(str(network)))
    want = _golden_lif(cfg, rows)
    dut = LIFUnit(cfg, acc_bits(cfg), stages=stages)
    got = {k: [] for k in want}
    late, cur_late = stages - 1, max(stages - 2, 0)

    async def bench(ctx):
        for c in range(len(rows) + late):
            if c < len(rows):
                for k in ("acc", "gain", "u", "rest"):
                    ctx.set(getattr(dut, k), rows[c][k])
            if 0 <= c - late < len(rows):
                for k in ("vth", "enable"):
                    ctx.set(getattr(dut, k), rows[c - late][k])
            for k in got:
                if 0 <= c - (cur_late if k == "current" else late) < len(rows):
                    got[k].append(ctx.get(getattr(dut, k)))
            if stages > 1:
                await ctx.tick()

    sim = Simulator(dut)
    if stages > 1:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    for k in want:
        for i, (a, b) in enumerate(zip(got[k], want[k].tolist())):
            assert a == b, f"{k} of vector {i} {rows[i]}: RTL {a}, golden {b}"


@pytest.mark.parametrize("width", [1.0, 0.5, 0.25, 4.0])
def test_lif_surrogate_equals_golden_for_every_membrane(width):
    """The surrogate ``h(u_pre - vth)`` equals the golden model's for every membrane value
    against thresholds at both ends, at zero and around one (the narrow triangles are built
    without a second adder: exact at every edge or wrong)."""
    cfg = load_config("default").replace(network={
        "leak": 1.0, "reset": "soft", "weight_centering": False, "surrogate": "triangle",
        "surrogate_width": width})
    vb, vf = cfg.fixed.v_bits, cfg.fixed.v_frac
    ar = FixedArith(cfg)
    dut = LIFUnit(cfg, acc_bits(cfg), stages=1)
    us = range(lo(vb), hi(vb) + 1)
    vths = [lo(vb), hi(vb), 0, 1 << vf, (1 << vf) + 3, -(1 << vf) - 1]
    got = []

    async def bench(ctx):  # acc 0 and leak 1: u_pre is u
        ctx.set(dut.enable, 1)
        for vth in vths:
            ctx.set(dut.vth, vth)
            for u in us:
                ctx.set(dut.u, u)
                got.append((ctx.get(dut.u_pre), ctx.get(dut.surrogate)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    u = torch.tensor(list(us))
    want = torch.cat([ar.surrogate(u - vth) for vth in vths]).tolist()
    assert [p for p, _ in got] == list(us) * len(vths)
    bad = [(i, g, w) for i, ((_, g), w) in enumerate(zip(got, want)) if g != w]
    assert not bad, f"{len(bad)} differ, first (index, RTL, golden): {bad[:3]}"


async def _put(ctx, dut, vec):
    """Put ``vec`` into the queue; return in the first cycle its indices may be offered (the
    second after the put: the vector is stored, then searched)."""
    ctx.set(dut.put_vector, vec)
    ctx.set(dut.put, 1)
    await ctx.tick()
    ctx.set(dut.put, 0)
    assert not ctx.get(dut.o.valid)
    await ctx.tick()


@pytest.mark.parametrize("width, seed", [(1, 0), (2, 7), (37, 1), (64, 2), (128, 3)])
def test_event_queue_emits_active_indices_in_order(width, seed):
    g = random.Random(seed)
    vectors = [0, (1 << width) - 1, 1 << (width - 1)] + [g.getrandbits(width) for _ in range(6)]
    vectors += [g.getrandbits(width) & g.getrandbits(width) & g.getrandbits(width)
                for _ in range(6)]  # sparse ones
    dut = EventQueue(width)
    out = []

    async def bench(ctx):
        for vec in vectors:
            await _put(ctx, dut, vec)
            got, stalls = [], 0
            while ctx.get(dut.o.valid):
                ready = g.random() < 0.7
                ctx.set(dut.o.ready, ready)
                if ready:
                    got.append((ctx.get(dut.o.payload.index), ctx.get(dut.o.payload.last)))
                else:
                    stalls += 1
                await ctx.tick()
            ctx.set(dut.o.ready, 0)
            out.append((vec, got))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    for vec, got in out:
        want = [i for i in range(width) if vec >> i & 1]
        assert [i for i, _ in got] == want
        assert [last for _, last in got] == [0] * (len(want) - 1) + [1] * bool(want)


@pytest.mark.parametrize("width, seed", [(1, 4), (9, 5), (64, 6)])
def test_event_queue_put_replaces_what_is_pending(width, seed):
    """A vector put while indices are still pending (with or without an accept in the same
    cycle) replaces them: its indices follow from the second cycle after the put on."""
    g = random.Random(seed)
    dut = EventQueue(width)
    out = []

    async def bench(ctx):
        for _ in range(12):
            vec = g.getrandbits(width)
            ctx.set(dut.o.ready, g.random() < 0.5)
            await _put(ctx, dut, vec)
            got = []
            cut = g.randrange(3)  # accept a few, then put the next vector over the rest
            while ctx.get(dut.o.valid) and len(got) < cut:
                ctx.set(dut.o.ready, 1)
                got.append((ctx.get(dut.o.payload.index), ctx.get(dut.o.payload.last)))
                await ctx.tick()
            ctx.set(dut.o.ready, 0)
            out.append((vec, got, ctx.get(dut.o.valid)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    for vec, got, still in out:
        want = [i for i in range(width) if vec >> i & 1]
        assert [i for i, _ in got] == want[:len(got)]
        assert [last for _, last in got] == [int(k == len(want) - 1) for k in range(len(got))]
        assert still == (len(got) < len(want))


@pytest.mark.parametrize("width", [1, 2, 5, 8, 11])
@pytest.mark.parametrize("kept", [False, True])
def test_lowest_set_every_vector(width, kept):
    """The queue's search over every vector of a few widths (powers of two and not): any bit
    set, the lowest set bit's index, and per bit whether a lower one is set; the same with
    the blocks' ORs as nets of their own (``kept``, as the queue builds it)."""
    x = Signal(width)
    sub = Module() if kept else None
    found, first, below = lowest_set(x, width, sub)
    xs, seen = _every_value(x, Cat(found, first, *below), sub=sub)
    nb = len(first)
    for xv, got in zip(xs, seen):
        want_below = [int(xv & ((1 << i) - 1) != 0) for i in range(width)]
        assert got & 1 == int(xv != 0), xv
        if xv:
            assert got >> 1 & ((1 << nb) - 1) == (xv & -xv).bit_length() - 1, xv
        assert [got >> (1 + nb + i) & 1 for i in range(width)] == want_below, xv


def test_event_queue_rejects_zero_width():
    with pytest.raises(ValueError, match="width must be at least 1, not 0"):
        EventQueue(0)


@pytest.mark.parametrize("width,n_bits", [(1, 3), (2, 1), (3, 2), (5, 3), (17, 5), (64, 4),
                                          (64, 7), (64, 16), (128, 8)])
def test_thermometer_sets_the_bits_below_n(width, n_bits):
    """``thermometer(n, width)`` equals ``Cat(i < n for i in range(width))`` for every ``n``
    (narrower or wider than the index, above ``width`` too)."""
    n, out = Signal(n_bits), Signal(width)
    m = Module()
    m.d.comb += out.eq(thermometer(n, width))
    values = sorted(set(range(min(1 << n_bits, 300))) | {(1 << n_bits) - 1})
    seen = []

    async def bench(ctx):
        for v in values:
            ctx.set(n, v)
            seen.append((v, ctx.get(out)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(v, (1 << min(v, width)) - 1) for v in values]


@pytest.mark.parametrize("bits,c", [(8, 0), (8, 1), (8, 4), (8, 5), (8, 255), (8, 300),
                                    (3, 9), (3, 6), (10, 64), (10, 63), (10, 256)])
def test_at_most_is_the_compare(bits, c):
    """``at_most(x, c)`` equals ``x <= c`` for every ``x`` (bounds below, at and past a power
    of two, and wider than ``x``), and rejects a negative bound."""
    x, out = Signal(bits), Signal()
    m = Module()
    m.d.comb += out.eq(at_most(x, c))
    seen = []

    async def bench(ctx):
        for v in range(1 << bits):
            ctx.set(x, v)
            seen.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [int(v <= c) for v in range(1 << bits)]
    with pytest.raises(ValueError, match="bound must be >= 0"):
        at_most(x, -1)


@pytest.mark.parametrize("shape,s_bits,offset", [(signed(5), 6, 0), (signed(5), 2, 0), (4, 6, 0),
                                                 (signed(9), 7, 0), (signed(9), 3, 4),
                                                 (signed(6), 4, 1), (5, 3, 2)])
def test_rshr_var_rounds_like_the_golden_shift(shape, s_bits, offset):
    """``rshr_var(x, s, offset)`` equals the golden ``rshr(x, s + offset)`` for every ``x``
    and every shift the signal can hold, far past ``x``'s width too, and stays about as wide
    as ``x`` (no ``2**s_bits``-bit rounding constant)."""
    x, s = Signal(shape), Signal(s_bits)
    expr = rshr_var(x, s, offset)
    assert len(expr) <= len(x) + 2
    out = Signal.like(expr)
    m = Module()
    m.d.comb += out.eq(expr)
    xs = range(lo(len(x)), hi(len(x)) + 1) if x.shape().signed else range(1 << len(x))
    seen, want = [], []

    async def bench(ctx):
        for sv in range(1 << s_bits):
            ctx.set(s, sv)
            k = sv + offset
            for xv in xs:
                ctx.set(x, xv)
                seen.append(ctx.get(out))
                # the golden shift in int64 (shifts up to 62); past that, the same rule
                # (x + 2**(k-1)) >> k on Python integers
                want.append(int(rshr(torch.tensor(xv), k)) if k < 63
                            else (xv + (1 << (k - 1))) >> k)

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen == want


def _every_value(x, expr, out=None, sub=None):
    """``(xs, outputs)``: ``expr`` of the signal ``x`` (into ``out``, default as wide as
    ``expr``; ``sub``, a module that drives some of its signals) for every value ``x`` can
    hold, in amaranth.sim."""
    out = Signal.like(expr) if out is None else out
    m = Module()
    if sub is not None:
        m.submodules.sub = sub
    m.d.comb += out.eq(expr)
    xs = range(lo(len(x)), hi(len(x)) + 1) if x.shape().signed else range(1 << len(x))
    seen = []

    async def bench(ctx):
        for xv in xs:
            ctx.set(x, xv)
            seen.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    return xs, seen


@pytest.mark.parametrize("shape,k", [(signed(8), 3), (signed(8), 1), (signed(8), 0), (6, 2),
                                     (signed(5), 4), (signed(5), 7), (4, 6)])
def test_rshr_rounds_like_the_golden_shift_and_drops_the_shifted_bits(shape, k):
    """The constant ``rshr(x, k)`` equals the golden one for every ``x`` (shifts past the
    width too), and its adder is no wider than the bits kept plus two."""
    x = Signal(shape)
    expr = hw_rshr(x, k)
    assert len(expr) <= max(len(x) - k, 1) + 2
    xs, seen = _every_value(x, expr)
    assert seen == [int(rshr(torch.tensor(xv), k)) for xv in xs]


@pytest.mark.parametrize("shape,bits", [(signed(9), 6), (signed(6), 6), (signed(4), 6),
                                        (signed(7), 2), (8, 5), (5, 6), (5, 5)])
def test_sat_clamps_like_the_golden_sat(shape, bits):
    """The hardware ``sat(x, bits)`` (a sign-bit check, no comparators) equals the golden
    one for every ``x`` of a signed or unsigned shape, narrower, as wide and wider than
    ``bits``, and its value fits ``signed(bits)``."""
    x = Signal(shape)
    expr = sat(x, bits)
    assert len(expr) <= bits and expr.shape().signed
    xs, seen = _every_value(x, expr, Signal(signed(bits)))
    assert seen == golden_sat(torch.tensor(list(xs)), bits).tolist()


@pytest.mark.parametrize("bits,b_bits", [(4, 9), (3, 5), (4, 4)])
def test_sat_sub_equals_the_saturated_difference(bits, b_bits):
    """``sat_sub(a, b, bits)`` (``b`` saturated to ``bits + 1`` bits first) equals the golden
    ``sat(a - b, bits)`` for every ``a`` of ``bits`` signed bits and every ``b``."""
    x = Signal(bits + b_bits)  # a in the low bits, b above
    a, b = x[:bits].as_signed(), x[bits:].as_signed()
    xs, seen = _every_value(x, sat_sub(a, b, bits), Signal(signed(bits)))
    sv = lambda v, n: v - (1 << n) if v >> (n - 1) & 1 else v  # noqa: E731
    diffs = [sv(v & ((1 << bits) - 1), bits) - sv(v >> bits, b_bits) for v in xs]
    assert seen == golden_sat(torch.tensor(diffs), bits).tolist()
