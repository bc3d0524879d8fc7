"""The core behind a UART: the host stream of docs/protocol.md over one serial line each way
(docs/protocol.md, "Serial link")."""

from __future__ import annotations

from amaranth.back import verilog
from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from .core import Core
from .uart import UartRx, UartTx, check_divisor

__all__ = ["SerialCore", "SERIAL_TOP", "RX_FIFO_WORDS", "serial_verilog_text"]

#: Top module name of :func:`serial_verilog_text`.
SERIAL_TOP = "snn_serial"
#: Command words buffered between the UART and the core.
RX_FIFO_WORDS = 16


class SerialCore(wiring.Component):
    """:class:`rtl_gen.core.Core` behind a UART (8N1, ``divisor`` clock cycles per bit).

    Parameters
    ----------
    cfg : Config
    divisor : int
        Clock cycles per bit (:func:`rtl_gen.uart.divisor_for`), at least 4.

    Members
    -------
    rx : In(1)
        Serial line from the host (idle high): command words, 4 bytes each, little-endian
        (:func:`rtl_gen.protocol.words_to_bytes`).
    tx : Out(1)
        Serial line to the host (idle high): reply words, same byte order.
    error : Out(8)
        The core's sticky host-protocol error code (e.g. for LEDs).
    link_error : Out(1)
        Sticky: a byte was lost (receiver overrun, or a stop bit was low). The byte
        alignment of later words is then undefined; reset the core.

    Cycle behaviour: every 4th received byte completes a word, written to a
    :data:`RX_FIFO_WORDS`-word FIFO in the cycle it is offered (when the FIFO is full the
    byte waits in the receiver, and the next byte to arrive is an overrun); the core reads
    the FIFO at its own pace. Each reply word is taken from the core when the previous one
    has been handed to the transmitter entirely and is sent as 4 back-to-back frames. The
    core's ``obs`` / ``obs_valid`` testbench outputs are not connected.
    """

    def __init__(self, cfg, divisor: int):
        self.cfg = cfg
        self.divisor = check_divisor(divisor, self)
        super().__init__({
            "rx": In(1, init=1), "tx": Out(1, init=1), "error": Out(8), "link_error": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart_rx = urx = UartRx(self.divisor)
        m.submodules.uart_tx = utx = UartTx(self.divisor)
        m.submodules.rx_fifo = fifo = SyncFIFOBuffered(width=32, depth=RX_FIFO_WORDS)
        m.submodules.core = core = Core(self.cfg)

        m.d.comb += [urx.rx.eq(self.rx), self.tx.eq(utx.tx), self.error.eq(core.error),
                     self.link_error.eq(urx.overrun | urx.frame_error)]

        # bytes -> words, little-endian: byte k is bits 8k+7..8k
        # bytes 0..2 shift in from the top of `low`: once nbytes == 3 they sit at bits 7..0,
        # 15..8, 23..16 and the byte offered by the receiver is byte 3
        low = Signal(24)
        nbytes = Signal(2)  # bytes of the current word received so far
        last = nbytes == 3
        m.d.comb += [fifo.w_data.eq(Cat(low, urx.o.payload)),
                     fifo.w_en.eq(urx.o.valid & last),
                     urx.o.ready.eq(~last | fifo.w_rdy)]
        with m.If(urx.o.valid & urx.o.ready):
            m.d.sync += [low.eq(Cat(low[8:], urx.o.payload)), nbytes.eq(nbytes + 1)]

        m.d.comb += [core.i.valid.eq(fifo.r_rdy), core.i.payload.eq(fifo.r_data),
                     fifo.r_en.eq(core.i.ready)]

        # words -> bytes, little-endian
        word = Signal(32)
        busy = Signal()
        index = Signal(2)
        m.d.comb += [core.o.ready.eq(~busy), utx.i.valid.eq(busy),
                     utx.i.payload.eq(word.word_select(index, 8))]
        with m.If(core.o.valid & core.o.ready):
            m.d.sync += [word.eq(core.o.payload), busy.eq(1), index.eq(0)]
        with m.If(utx.i.valid & utx.i.ready):
            m.d.sync += index.eq(index + 1)
            with m.If(index == 3):
                m.d.sync += busy.eq(0)
        return m


def serial_verilog_text(cfg, divisor: int) -> str:
    """Verilog of :class:`SerialCore` (top module :data:`SERIAL_TOP`; ports ``clk``, ``rst``,
    ``rx``, ``tx``, ``error``, ``link_error``)."""
    return verilog.convert(SerialCore(cfg, divisor), name=SERIAL_TOP, emit_src=False)
