"""UART receiver and transmitter, 8N1, LSB first, a fixed number of clock cycles per bit."""

from __future__ import annotations

from functools import reduce
from operator import xor

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

__all__ = ["UartRx", "UartTx", "divisor_for", "check_divisor", "MIN_DIVISOR",
           "MAX_BAUD_ERROR", "Countdown", "LFSR_TAPS", "lfsr_step"]

#: Fewest clock cycles per bit: the receiver samples at ``divisor // 2`` and needs a few
#: cycles of slack for its synchronizer around the bit edges.
MIN_DIVISOR = 4
#: Largest relative baud-rate error :func:`divisor_for` accepts (8N1 tolerates about 5 %
#: between both ends; each end takes half of it).
MAX_BAUD_ERROR = 0.02


def check_divisor(divisor, owner=None) -> int:
    """``divisor`` if it is a valid number of clock cycles per bit, else ValueError. ``owner``:
    the component being built, marked so that Amaranth does not also warn that it was never
    used."""
    if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < MIN_DIVISOR:
        if owner is not None:
            owner._MustUse__silence = True
        raise ValueError(f"divisor (clock cycles per bit) must be an integer >= {MIN_DIVISOR}, "
                         f"not {divisor!r}")
    return divisor


def divisor_for(clk_hz: float, baud: float) -> int:
    """Clock cycles per bit for ``baud`` at ``clk_hz``: ``round(clk_hz / baud)``.

    Raises ValueError when the divisor is below :data:`MIN_DIVISOR` or the baud rate it gives,
    ``clk_hz / divisor``, is off by more than :data:`MAX_BAUD_ERROR` (2 %).
    """
    if not clk_hz > 0 or not baud > 0:
        raise ValueError(f"clock ({clk_hz!r} Hz) and baud rate ({baud!r}) must be positive")
    divisor = round(clk_hz / baud)
    if divisor < MIN_DIVISOR:
        raise ValueError(f"{baud} baud at {clk_hz} Hz needs {clk_hz / baud:.2f} cycles per bit; "
                         f"the UART needs at least {MIN_DIVISOR}")
    error = abs(clk_hz / divisor - baud) / baud
    if error > MAX_BAUD_ERROR:
        raise ValueError(f"{baud} baud at {clk_hz} Hz: the nearest divisor {divisor} gives "
                         f"{clk_hz / divisor:.1f} baud, {100 * error:.2f} % off (at most "
                         f"{100 * MAX_BAUD_ERROR:g} %)")
    return divisor


#: Taps of maximal-length n-bit XNOR LFSRs, bits numbered 1..n (Xilinx XAPP052; n = 2:
#: x^2 + x + 1): one cycle through every state but the all-ones lock-up state,
#: ``2**n - 1`` of them.
LFSR_TAPS = {
    2: (2, 1), 3: (3, 2), 4: (4, 3), 5: (5, 3), 6: (6, 5), 7: (7, 6), 8: (8, 6, 5, 4),
    9: (9, 5), 10: (10, 7), 11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1),
    14: (14, 5, 3, 1), 15: (15, 14), 16: (16, 15, 13, 4), 17: (17, 14), 18: (18, 11),
    19: (19, 6, 2, 1), 20: (20, 17), 21: (21, 19), 22: (22, 21), 23: (23, 18),
    24: (24, 23, 22, 17),
}


def lfsr_step(state: int, n: int) -> int:
    """The state after ``state`` in the ``n``-bit LFSR of :class:`Countdown`: shifted up
    one bit, bit 0 the XNOR of the taps."""
    feedback = 1 ^ reduce(xor, (state >> (t - 1) & 1 for t in LFSR_TAPS[n]))
    return (state << 1 | feedback) & ((1 << n) - 1)


def _lfsr_back(state: int, n: int) -> int:
    """The state before ``state`` (the inverse of :func:`lfsr_step`): the bit shifted out
    is tap n, recovered from the feedback bit and the other taps."""
    top = 1 ^ reduce(xor, (state >> t & 1 for t in LFSR_TAPS[n] if t != n), state & 1)
    return state >> 1 | top << (n - 1)


class Countdown:
    """A down-counter loaded with constants, without an adder: an n-bit maximal-length
    LFSR (a step is one XNOR of at most 4 taps) and a registered zero flag.

    Why: on a nearly full iCE40 UP5K the placer split the binary baud counter's carry
    chain and it became the design's worst path; this counter has no carry chain and its
    flag comes straight from a flip-flop.

    ``loads``: the constants it may be loaded with, known at elaboration; n is the
    smallest with ``2**n - 1 > max(loads)``. The count is encoded as the number of steps
    before the end state, all zeros (the reset state; the all-ones lock-up state is never
    reached): ``load(v)`` sets the state ``v`` steps before it. Not a submodule:
    :meth:`load` and :meth:`step` return statements for the caller's ``sync`` domain, so
    where they meet, Amaranth's last-assignment-wins priority is the caller's as for a
    plain counter signal.

    Attributes
    ----------
    zero : Signal(1), registered
        The count is 0: after reset, and ``v`` steps after ``load(v)`` (``load(0)`` sets it
        at once).
    state : Signal(n)
        The LFSR.
    """

    def __init__(self, loads, name="count"):
        loads = set(loads)
        need = max(loads)
        n = max(2, (need + 1).bit_length())  # the smallest n with 2**n - 1 > need
        if n not in LFSR_TAPS:
            raise ValueError(f"a count of {need} needs an LFSR of {n} bits; the taps are "
                             f"known for {min(LFSR_TAPS)} to {max(LFSR_TAPS)} bits")
        self.n = n
        self.state = Signal(n, name=f"{name}_lfsr")  # the end state, 0, at reset
        self.zero = Signal(init=1, name=f"{name}_zero")
        # walk back from the end: the state v steps before it, for each load v
        self._before, s = {}, 0
        for v in range(need + 1):
            if v in loads:
                self._before[v] = s
            s = _lfsr_back(s, n)
        self._pre_end = _lfsr_back(0, n)  # one step before the end

    def load(self, v: int) -> list:
        """Statements: the count becomes ``v`` (one of ``loads``)."""
        return [self.state.eq(self._before[v]), self.zero.eq(v == 0)]

    def step(self) -> list:
        """Statements: the count goes down by one (only when it is not 0: from the end
        state the LFSR would go on to states that are no count)."""
        feedback = ~reduce(xor, (self.state[t - 1] for t in LFSR_TAPS[self.n]))
        return [self.state.eq(Cat(feedback, self.state[:-1])),
                self.zero.eq(self.state == self._pre_end)]


class UartRx(wiring.Component):
    """UART receiver, 8N1, LSB first.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit, at least 4.

    Members
    -------
    rx : In(1)
        The line (idle high), from the pin: synchronized by two flip-flops.
    o : Out(stream.Signature(8))
        Received bytes. A byte is offered until taken; a wire cannot be paused, so there is
        no back-pressure beyond that one byte.
    overrun : Out(1)
        Sticky: a byte was complete while the previous one was still not taken (the new
        byte is dropped, the old one stays offered).
    frame_error : Out(1)
        Sticky: a stop bit was low (the byte is dropped and the receiver waits for the line
        to go high before looking for the next start bit).

    Cycle behaviour: the cycle the synchronized line is first seen low starts a frame; the
    line is sampled ``divisor // 2`` cycles later (mid start bit: still low, else it was a
    glitch and the receiver goes back to idle) and then every ``divisor`` cycles: 8 data bits,
    then the stop bit. A good byte is offered (``o.valid``) from the cycle after the stop-bit
    sample, 3 + ``divisor // 2`` + 9 ``divisor`` cycles after the line fell; the receiver is
    idle again in that same cycle, half a bit before the stop bit ends, so back-to-back frames
    at a slightly faster sender are received too.
    """

    def __init__(self, divisor: int):
        self.divisor = check_divisor(divisor, self)
        super().__init__({
            "rx": In(1, init=1),
            "o": Out(stream.Signature(8)),
            "overrun": Out(1),
            "frame_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        line = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, line, init=1, stages=2)
        count = Countdown([d - 1, d // 2 - 1])
        bit = Signal(range(8))
        shreg = Signal(8)
        tick = count.zero

        with m.If(~tick):
            m.d.sync += count.step()
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += count.load(d // 2 - 1)
                    m.next = "START"
            with m.State("START"):
                with m.If(tick):
                    with m.If(line):
                        m.next = "IDLE"  # high at mid start bit: a glitch
                    with m.Else():
                        m.d.sync += [*count.load(d - 1), bit.eq(0)]
                        m.next = "DATA"
            with m.State("DATA"):
                with m.If(tick):
                    m.d.sync += [*count.load(d - 1), shreg.eq(Cat(shreg[1:], line)),
                                 bit.eq(bit + 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(tick):
                    with m.If(~line):
                        m.d.sync += self.frame_error.eq(1)
                        m.next = "BREAK"
                    with m.Else():
                        with m.If(self.o.valid & ~self.o.ready):
                            m.d.sync += self.overrun.eq(1)
                        with m.Else():
                            m.d.sync += [self.o.payload.eq(shreg), self.o.valid.eq(1)]
                        m.next = "IDLE"
            with m.State("BREAK"):
                with m.If(line):
                    m.next = "IDLE"
        return m


class UartTx(wiring.Component):
    """UART transmitter, 8N1, LSB first.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit, at least 4.

    Members
    -------
    i : In(stream.Signature(8))
        Bytes to send.
    tx : Out(1)
        The line, registered; high when idle.

    Cycle behaviour: a byte taken in cycle ``c`` drives the start bit from cycle ``c + 1``,
    then the 8 data bits and the stop bit, each ``divisor`` cycles. ``i.ready`` is high while
    idle and in the last cycle of a stop bit, so bytes offered back to back go out at full
    rate: one frame every ``10 * divisor`` cycles, no idle time between frames.
    """

    def __init__(self, divisor: int):
        self.divisor = check_divisor(divisor, self)
        super().__init__({
            "i": In(stream.Signature(8)),
            "tx": Out(1, init=1),
        })

    def elaborate(self, platform):
        m = Module()
        d = self.divisor
        count = Countdown([d - 1])
        left = Signal(range(11))  # bits of the frame not yet finished, the current one included
        shreg = Signal(9)  # the bits after the current one: data bits LSB first, then stop
        tick = count.zero
        m.d.comb += self.i.ready.eq((left == 0) | ((left == 1) & tick))
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.tx.eq(0), shreg.eq(Cat(self.i.payload, 1)), left.eq(10),
                         *count.load(d - 1)]
        with m.Elif(left != 0):
            with m.If(tick):
                # after the stop bit shreg holds only ones: the line returns to idle
                m.d.sync += [self.tx.eq(shreg[0]), shreg.eq(Cat(shreg[1:], 1)),
                             left.eq(left - 1), *count.load(d - 1)]
            with m.Else():
                m.d.sync += count.step()
        return m
