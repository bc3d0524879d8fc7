"""The UART (rtl_gen/uart.py) in amaranth.sim: loopback at full rate, receiver edge cases
(frame error, glitch, overrun, baud mismatch), latency, divisor_for; the LFSR baud counter
(maximal taps, exact counts); the serial core's byte order and its link error when the host
floods it."""

from __future__ import annotations

import random

import pytest
from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.sim import Simulator

from rtl_gen.config import load_config
from rtl_gen.protocol import Err, Host, Mem, bytes_to_words, header, reply_header, words_to_bytes
from rtl_gen.serial_core import SerialCore
from rtl_gen.uart import LFSR_TAPS, Countdown, UartRx, UartTx, divisor_for, lfsr_step


class Loopback(Elaboratable):
    def __init__(self, divisor):
        self.tx, self.rx = UartTx(divisor), UartRx(divisor)

    def elaborate(self, platform):
        m = Module()
        m.submodules.tx, m.submodules.rx = self.tx, self.rx
        m.d.comb += self.rx.rx.eq(self.tx.tx)
        return m


def _simulate(dut, *testbenches, processes=()):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    for tb in testbenches:
        sim.add_testbench(tb)
    for p in processes:
        sim.add_process(p)
    sim.run()


async def _collect(ctx, rx, n, limit):
    """Take bytes from ``rx.o`` (ready held high) until ``n`` arrived or ``limit`` cycles."""
    got = []
    ctx.set(rx.o.ready, 1)
    for _ in range(limit):
        _, _, valid, payload = await ctx.tick().sample(rx.o.valid, rx.o.payload)
        if valid:
            got.append(payload)
            if len(got) == n:
                break
    return got


async def _line(ctx, rx, bits, period):
    """Drive ``rx`` with ``bits`` (0/1), each ``period`` cycles (fractional periods: edges at
    the rounded multiples)."""
    t = 0.0
    for b in bits:
        ctx.set(rx.rx, b)
        n = round(t + period) - round(t)
        t += period
        await ctx.tick().repeat(n)


def _frame(byte, stop=1):
    return [0] + [(byte >> k) & 1 for k in range(8)] + [stop]


@pytest.mark.parametrize("divisor", [4, 5, 13])
def test_loopback_back_to_back(divisor):
    rng = random.Random(divisor)
    data = [0x00, 0xFF, 0x55, 0xAA, 0x01, 0x80] + [rng.randrange(256) for _ in range(40)]
    dut = Loopback(divisor)
    starts, got = [], []

    async def source(ctx):
        ctx.set(dut.tx.i.valid, 1)
        for b in data:
            ctx.set(dut.tx.i.payload, b)
            while True:
                _, _, ready = await ctx.tick().sample(dut.tx.i.ready)
                if ready:
                    break
        ctx.set(dut.tx.i.valid, 0)

    async def sink(ctx):
        got.extend(await _collect(ctx, dut.rx, len(data), 12 * divisor * (len(data) + 2)))
        await ctx.tick().repeat(3 * divisor)
        assert ctx.get(dut.tx.tx) == 1 and ctx.get(dut.rx.o.valid) == 0
        assert ctx.get(dut.rx.overrun) == 0 and ctx.get(dut.rx.frame_error) == 0

    async def line_monitor(ctx):
        """Cycles in which a start bit begins (the line falls and no frame is under way)."""
        prev, cycle, quiet = 1, 0, 0
        async for _, _, line in ctx.tick().sample(dut.tx.tx):
            if prev and not line and cycle >= quiet:
                starts.append(cycle)
                quiet = cycle + 10 * divisor - 1  # the stop bit's start, at the latest
            prev, cycle = line, cycle + 1

    _simulate(dut, source, sink, processes=[line_monitor])
    assert got == data
    assert len(starts) == len(data)
    # full rate: every frame starts exactly 10 bits after the previous one
    assert {b - a for a, b in zip(starts, starts[1:])} == {10 * divisor}


def test_tx_frame_shape():
    """Start bit, 8 data bits LSB first, stop bit, each exactly ``divisor`` cycles."""
    d = 6
    dut = UartTx(d)
    seen = []

    async def tb(ctx):
        assert ctx.get(dut.tx) == 1
        ctx.set(dut.i.valid, 1)
        ctx.set(dut.i.payload, 0b1011_0010)
        await ctx.tick()
        ctx.set(dut.i.valid, 0)
        for _ in range(12 * d):
            seen.append(ctx.get(dut.tx))
            await ctx.tick()

    _simulate(dut, tb)
    want = [b for b in _frame(0b1011_0010) for _ in range(d)]
    assert seen[:10 * d] == want and set(seen[10 * d:]) == {1}


@pytest.mark.parametrize("divisor", [4, 7, 16])
def test_rx_latency(divisor):
    """A byte is offered 3 + divisor // 2 + 9 divisor cycles after the line falls."""
    dut = UartRx(divisor)

    async def tb(ctx):
        ctx.set(dut.o.ready, 0)
        await ctx.tick().repeat(5)
        t = 0
        for b in _frame(0x3C) + [1]:
            ctx.set(dut.rx, b)
            for _ in range(divisor):
                await ctx.tick()
                t += 1
                if ctx.get(dut.o.valid):
                    assert t == 3 + divisor // 2 + 9 * divisor
                    assert ctx.get(dut.o.payload) == 0x3C
                    return
        raise AssertionError("no byte")

    _simulate(dut, tb)


@pytest.mark.parametrize("skew", [-0.04, 0.04])
def test_rx_tolerates_baud_mismatch(skew):
    """Frames back to back from a sender 4 % slower or faster are received."""
    d = 16
    dut = UartRx(d)
    data = [0x00, 0xFF, 0xA5, 0x5A, 0x0F, 0xF0, 0x81, 0x7E]
    got = []

    async def line(ctx):
        await ctx.tick().repeat(3)
        await _line(ctx, dut, [b for x in data for b in _frame(x)], d * (1 + skew))

    async def sink(ctx):
        got.extend(await _collect(ctx, dut, len(data), 12 * d * len(data)))
        assert ctx.get(dut.frame_error) == 0 and ctx.get(dut.overrun) == 0

    _simulate(dut, line, sink)
    assert got == data


def test_rx_frame_error_drops_the_byte():
    d = 8
    dut = UartRx(d)
    got = []

    async def line(ctx):
        await ctx.tick().repeat(3)
        await _line(ctx, dut, _frame(0x42), d)
        await _line(ctx, dut, _frame(0x99, stop=0) + [0, 0, 0], d)  # low stop bit, then a break
        assert ctx.get(dut.frame_error) == 1
        await _line(ctx, dut, [1, 1] + _frame(0x17) + [1], d)

    async def sink(ctx):
        got.extend(await _collect(ctx, dut, 3, 50 * d))
        assert ctx.get(dut.frame_error) == 1 and ctx.get(dut.overrun) == 0

    _simulate(dut, line, sink)
    assert got == [0x42, 0x17]


def test_rx_ignores_a_glitch():
    d = 12
    dut = UartRx(d)
    got = []

    async def line(ctx):
        await ctx.tick().repeat(3)
        for low in (1, 2, d // 2 - 2):  # low for less than half a bit
            ctx.set(dut.rx, 0)
            await ctx.tick().repeat(low)
            ctx.set(dut.rx, 1)
            await ctx.tick().repeat(2 * d)
        await _line(ctx, dut, _frame(0xC3) + [1], d)

    async def sink(ctx):
        got.extend(await _collect(ctx, dut, 2, 20 * d))
        assert ctx.get(dut.frame_error) == 0 and ctx.get(dut.overrun) == 0

    _simulate(dut, line, sink)
    assert got == [0xC3]


def test_rx_overrun_keeps_the_first_byte():
    d = 5
    dut = UartRx(d)

    async def tb(ctx):
        ctx.set(dut.o.ready, 0)
        await ctx.tick().repeat(3)
        await _line(ctx, dut, _frame(0x11) + [1], d)
        assert ctx.get(dut.o.valid) == 1 and ctx.get(dut.overrun) == 0
        await _line(ctx, dut, _frame(0x22) + [1], d)
        assert ctx.get(dut.overrun) == 1
        assert ctx.get(dut.o.valid) == 1 and ctx.get(dut.o.payload) == 0x11
        ctx.set(dut.o.ready, 1)
        await ctx.tick()
        ctx.set(dut.o.ready, 0)
        assert ctx.get(dut.o.valid) == 0
        await _line(ctx, dut, _frame(0x33) + [1], d)  # received again; overrun stays set
        assert ctx.get(dut.o.valid) == 1 and ctx.get(dut.o.payload) == 0x33
        assert ctx.get(dut.overrun) == 1 and ctx.get(dut.frame_error) == 0

    _simulate(dut, tb)


def test_divisor_for():
    assert divisor_for(12e6, 115200) == 104  # 0.16 % off
    assert divisor_for(48_000_000, 3_000_000) == 16
    assert divisor_for(1e8, 12.5e6) == 8
    assert divisor_for(1e6, 250_000) == 4
    with pytest.raises(ValueError, match="4.76 % off"):
        divisor_for(10e6, 1.5e6)  # 6.67 cycles: 7 gives 1.43 Mbaud
    with pytest.raises(ValueError, match="at least 4"):
        divisor_for(1e6, 300_000)
    with pytest.raises(ValueError, match="positive"):
        divisor_for(12e6, 0)


@pytest.mark.parametrize("n", range(2, 17))
def test_lfsr_taps_are_maximal(n):
    """Stepping from the end state (0) comes back to it after 2**n - 1 steps, every state
    but the all-ones lock-up state seen once."""
    seen, s = set(), 0
    while s not in seen:
        seen.add(s)
        s = lfsr_step(s, n)
    assert s == 0 and len(seen) == 2**n - 1 and 2**n - 1 not in seen


def test_lfsr_taps_are_primitive():
    """Every table entry, 17..24 bits too: x has order 2**n - 1 modulo 1 + sum x^tap (so
    the XOR LFSR is maximal; the XNOR one, with an even number of taps, is the XOR one with
    every state inverted)."""

    def mulmod(a, b, p, n):
        r = 0
        while b:
            r, b, a = r ^ (a if b & 1 else 0), b >> 1, a << 1
            a ^= p if a >> n & 1 else 0
        return r

    def x_power(e, p, n):
        r, a = 1, 2
        while e:
            r, e, a = mulmod(r, a, p, n) if e & 1 else r, e >> 1, mulmod(a, a, p, n)
        return r

    assert sorted(LFSR_TAPS) == list(range(2, 25))
    for n, taps in LFSR_TAPS.items():
        assert max(taps) == n and len(taps) % 2 == 0
        p, order = 1 | sum(1 << t for t in taps), 2**n - 1
        primes = {q for q in range(2, order + 1) if order % q == 0
                  and all(q % k for k in range(2, int(q**0.5) + 1))}
        assert x_power(order, p, n) == 1
        assert all(x_power(order // q, p, n) != 1 for q in primes), n


class _Counter(Elaboratable):
    """A :class:`Countdown`: ``step`` steps it (when not at 0); ``load = k + 1`` loads
    ``loads[k]``, written after the step as in UartRx (the load wins)."""

    def __init__(self, loads):
        self.loads, self.c = loads, Countdown(loads)
        self.step, self.load = Signal(), Signal(range(len(loads) + 1))

    def elaborate(self, platform):
        m = Module()
        with m.If(self.step & ~self.c.zero):
            m.d.sync += self.c.step()
        for k, v in enumerate(self.loads):
            with m.If(self.load == k + 1):
                m.d.sync += self.c.load(v)
        return m


@pytest.mark.parametrize("loads,n", [([0, 1, 2, 6], 3), ([3, 7], 4), ([5, 30, 200, 254], 8)])
def test_countdown_counts_exactly(loads, n):
    """``zero`` rises exactly ``v`` steps after ``load(v)`` (6 and 254 use every state of
    the LFSR); it is 1 at reset; idle cycles hold the count; a load beats a step."""
    dut = _Counter(loads)
    assert dut.c.n == n
    rng = random.Random(n)

    async def tb(ctx):
        assert ctx.get(dut.c.zero) == 1
        for k, v in enumerate(loads):  # load, then step every cycle
            ctx.set(dut.load, k + 1)
            await ctx.tick()
            ctx.set(dut.load, 0)
            ctx.set(dut.step, 1)
            for i in range(v + 2):
                assert ctx.get(dut.c.zero) == (i >= v), (v, i)
                await ctx.tick()
            ctx.set(dut.step, 0)
        count = 0  # random loads and steps against a model
        for _ in range(3000):
            k = rng.randrange(len(loads) + 1) if rng.random() < 0.02 else 0
            step = rng.random() < 0.7
            ctx.set(dut.load, k)
            ctx.set(dut.step, step)
            await ctx.tick()
            count = loads[k - 1] if k else count - (step and count > 0)
            assert ctx.get(dut.c.zero) == (count == 0)

    _simulate(dut, tb)


@pytest.mark.parametrize("bad", [3, 0, -8, 4.0, True, "8"])
def test_bad_divisor(bad):
    for cls in (UartRx, UartTx):
        with pytest.raises(ValueError, match="cycles per bit"):
            cls(bad)
    with pytest.raises(ValueError, match="cycles per bit"):
        SerialCore(load_config("tiny"), bad)


def _bits(data: bytes):
    return [b for x in data for b in _frame(x)]


def test_serial_core_bridge_and_link_error():
    """Commands as little-endian bytes in, replies out the same way (decoded here from the
    line, independently of UartRx); a host that does not wait for replies overruns the
    16-word receive FIFO while a long reply goes out: ``link_error``."""
    d = 4
    dut = SerialCore(load_config("tiny"), d)
    host = Host()
    replies, starts = [], []

    async def line_in(ctx):
        await ctx.tick().repeat(3)
        status = words_to_bytes(host.status().words)
        bad = words_to_bytes([header(0x7F, 2), 1, 2])
        await _line(ctx, dut, _bits(status + bad), d)
        while len(replies) < 4 * 4:
            await ctx.tick()
        assert bytes_to_words(bytes(replies)) == [reply_header(0, 2), 0, 0,
                                                 reply_header(Err.UNKNOWN_OP)]
        assert ctx.get(dut.error) == Err.UNKNOWN_OP and ctx.get(dut.link_error) == 0
        assert ctx.get(dut.tx) == 1
        # a 40-word reply (6,560 cycles on the line) and, without waiting, 24 NOPs
        flood = words_to_bytes(host.read(Mem.WEIGHTS, 0, 40).words + [header(0)] * 24)
        await _line(ctx, dut, _bits(flood) + [1], d)
        assert ctx.get(dut.link_error) == 1

    async def line_out(ctx):
        """Bytes from ``tx``: a fall starts a frame, bits sampled mid-bit."""
        t, start, prev = 0, None, 1
        byte = 0
        async for _, _, line in ctx.tick().sample(dut.tx):
            if start is None:
                if prev and not line:
                    start, byte = t, 0
                    starts.append(t)
            else:
                k, r = divmod(t - start - d // 2, d)
                if r == 0 and 1 <= k <= 8:
                    byte |= line << (k - 1)
                elif r == 0 and k == 9:
                    assert line == 1, "stop bit low"
                    replies.append(byte)
                    start = None
            prev, t = line, t + 1

    _simulate(dut, line_in, processes=[line_out])
    # the 3-word STATUS reply: 12 frames back to back
    assert {b - a for a, b in zip(starts[:12], starts[1:12])} == {10 * d}
