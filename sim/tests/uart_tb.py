"""cocotb test of the serial core (rtl_gen/serial_core.py): the host driver's flows over the
UART, with cocotbext-uart as the host's serial port, every result checked against the golden
models (run by tests/test_rtl_uart.py through sim/uart_link.py)."""

from __future__ import annotations

import logging
import time
import warnings

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge, Timer
from cocotb.utils import get_sim_time
from cocotbext.uart import UartSink, UartSource

from rtl_gen import driver
from rtl_gen.config import parse_config
from rtl_gen.driver import adrive
from rtl_gen.protocol import (Command, Err, Host, ProtocolError, bytes_to_words, header,
                              execute_async, words_to_bytes)
from sim.cases import make_frames, make_labels, make_params
from sim.runner import tb_args, tb_report
from sim.scoreboard import TrainScoreboard
from sim.tb import CLOCK_NS

#: Clock cycles of silence on the reply line (after the command is out) before a reply is
#: declared lost: far more than any run of the small test cores.
REPLY_TIMEOUT_CYCLES = 200_000


class SerialTB:
    """The host's end of the serial line: a cocotbext-uart source driving ``rx`` and a sink
    listening on ``tx``, at the core's baud rate (``divisor`` clock cycles per bit)."""

    def __init__(self, dut, divisor: int):
        self.dut = dut
        self.bit_ns = CLOCK_NS * divisor
        self.baud = 1e9 / self.bit_ns
        self.bytes_sent = self.bytes_received = 0

    async def start(self) -> None:
        d = self.dut
        # the source drives rx high (idle) at once, before reset ends (through cocotb's
        # deprecated setimmediatevalue: cocotbext-uart 0.1.4's warning, not ours)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Use `handle.set", DeprecationWarning)
            self.source = UartSource(d.rx, baud=self.baud, bits=8, stop_bits=1)
        self.sink = UartSink(d.tx, baud=self.baud, bits=8, stop_bits=1)
        for log in (self.source.log, self.sink.log):  # one INFO line per byte otherwise
            log.setLevel(logging.WARNING)
        cocotb.start_soon(Clock(d.clk, CLOCK_NS, unit="ns").start())
        d.rst.value = 1
        for _ in range(3):
            await RisingEdge(d.clk)
        d.rst.value = 0
        await RisingEdge(d.clk)

    async def send(self, words: list[int]) -> None:
        data = words_to_bytes(words)
        self.bytes_sent += len(data)
        await self.source.write(data)

    async def recv(self, n: int) -> list[int]:
        """``n`` reply words; raises TimeoutError after ``REPLY_TIMEOUT_CYCLES`` without a
        byte once the command has been sent."""
        await self.source.wait()  # the whole command is on the line
        need, data = 4 * n, bytearray()
        while len(data) < need:
            if self.sink.empty():
                await self.sink.wait(REPLY_TIMEOUT_CYCLES * CLOCK_NS, "ns")
                if self.sink.empty():
                    raise TimeoutError(f"{n - len(data) // 4} of {n} reply words missing after "
                                       f"{REPLY_TIMEOUT_CYCLES} cycles of silence")
            data += self.sink.read_nowait(min(need - len(data), self.sink.count()))
        self.bytes_received += need
        return bytes_to_words(data)

    async def execute(self, cmd: Command):
        """Send one command, receive its whole reply, decode it (raises ProtocolError)."""
        return await execute_async(cmd, self.send, self.recv)


@cocotb.test()
async def serial_flows(dut):
    """Load, train (every parameter read back), infer, a malformed command, train again:
    every result equal to the golden models, no link error, nothing extra on the line."""
    a = tb_args()
    cfg = parse_config(a["config"])
    seed = a.get("seed", 0)
    tb = SerialTB(dut, a["divisor"])
    await tb.start()
    t0, c0 = time.perf_counter(), get_sim_time("ns")

    params = make_params(cfg, seed, "random")
    await adrive(driver.load(cfg, params), tb.execute)
    board = TrainScoreboard(cfg, params)
    frames = make_frames(cfg, seed, "random", 3)
    labels = make_labels(cfg, seed, "random", 3)
    samples = trained = 0

    async def sample(i, label):
        nonlocal samples, trained
        res = await adrive(driver.run_sample(cfg, frames[i], label, readback=True), tb.execute)
        board.check(board.expect(frames[i], label), res, None)
        assert (res.params is not None) == (label is not None)
        samples, trained = samples + 1, trained + (label is not None)
        dut._log.info(f"sample {samples} ({'train' if label is not None else 'infer'}) "
                      f"bit- and cycle-exact over the serial link: {res.cycles} cycles")

    await sample(0, labels[0])
    await sample(1, None)

    # an unknown opcode with a payload: skipped whole, error reply, sticky error on the pins
    bad = Command([header(0x7F, 3), 0xDEADBEEF, 0x01000000, 5], 0, what="opcode 0x7F")
    try:
        await tb.execute(bad)
        raise AssertionError("opcode 0x7F was accepted")
    except ProtocolError as e:
        assert e.code == Err.UNKNOWN_OP, e
    assert int(dut.error.value) == Err.UNKNOWN_OP
    assert await tb.execute(Host().status()) == (Err.UNKNOWN_OP, trained)
    await tb.execute(Host().clear_error())
    assert int(dut.error.value) == 0

    await sample(2, labels[2])
    assert await tb.execute(Host().status()) == (Err.OK, trained)

    await Timer(30 * tb.bit_ns, "ns")
    assert tb.sink.empty() and tb.sink.idle(), "bytes on the reply line after the last reply"
    assert int(dut.link_error.value) == 0, "the serial core reports a link error"
    assert int(dut.tx.value) == 1
    tb_report(samples=samples, trained=trained, bytes_sent=tb.bytes_sent,
              bytes_received=tb.bytes_received,
              sim_cycles=int(get_sim_time("ns") - c0) // CLOCK_NS,
              seconds=time.perf_counter() - t0)
