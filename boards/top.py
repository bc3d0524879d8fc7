"""The design that goes on a board: PLL, the core behind its UART bridge, status LEDs."""

from __future__ import annotations

from amaranth.hdl import ClockDomain, Elaboratable, Module
from amaranth.lib import io

from rtl_gen.serial_core import SerialCore
from rtl_gen.uart import divisor_for

from .pll import Ecp5Pll, Ice40Pll, ecp5_pll, ice40_pll

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Top level for an amaranth-boards platform.

    Parameters
    ----------
    cfg : Config
        The core.
    clock_mhz : float
        The core's clock: the fastest PLL output not above it.
    family : "ice40" | "ecp5"
        Which PLL to instantiate.
    leds : ((name, number), (name, number))
        The error and link-error LEDs.
    baud : int
        UART speed of the bridge (the board's USB serial port).

    Pins: the board's default clock (into the PLL), ``uart`` 0 (rx, tx), and LEDs: LED 0 lit
    while the host-protocol error code is nonzero, LED 1 on a lost serial byte (``link_error``).
    The core is held in reset until the PLL locks.
    """

    def __init__(self, cfg, family: str, leds, baud: int, clock_mhz: float):
        self.cfg, self.family, self.leds, self.baud = cfg, family, leds, baud
        self.clock_mhz = clock_mhz
        self.pll = None  # the PllSetting, known once elaborated for a platform

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = cd = ClockDomain("sync")  # driven by the PLL
        want = self.clock_mhz
        fin = platform.default_clk_frequency / 1e6
        if self.family == "ice40":
            self.pll = ice40_pll(fin, want)
            pad = platform.request(platform.default_clk, dir="-")
            m.submodules.pll = Ice40Pll(pad, self.pll)
        else:
            self.pll = ecp5_pll(fin, want)
            m.submodules.clk_buf = clk = io.Buffer("i", platform.request(platform.default_clk,
                                                                       dir="-"))
            m.submodules.pll = Ecp5Pll(clk.i, self.pll)
        platform.add_clock_constraint(cd.clk, self.pll.fout * 1e6)
        core = SerialCore(self.cfg, divisor_for(self.pll.fout * 1e6, self.baud))
        m.submodules.core = core
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buf = rx = io.Buffer("i", uart.rx)
        m.submodules.tx_buf = tx = io.Buffer("o", uart.tx)
        m.d.comb += [core.rx.eq(rx.i), tx.o.eq(core.tx)]
        for k, (name, number) in enumerate(self.leds):
            m.submodules[f"led{k}"] = led = io.Buffer("o", platform.request(name, number,
                                                                            dir="-"))
            m.d.comb += led.o.eq(core.error != 0 if k == 0 else core.link_error)
        return m
