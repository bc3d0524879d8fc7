"""The design that goes on a board: PLL, the core behind its UART bridge, status LEDs."""

from __future__ import annotations

from amaranth.hdl import (ClockDomain, ClockSignal, Elaboratable, Instance, Module, ResetSignal,
                          Signal)
from amaranth.lib import io

from rtl_gen.serial_core import SERIAL_TOP, serial_verilog_text
from rtl_gen.uart import divisor_for

from .pll import ICE40_PLL_MIN_MHZ, Ecp5Pll, Ice40Pll, ecp5_pll, ice40_pll

__all__ = ["BoardTop"]


class BoardTop(Elaboratable):
    """Top level for an amaranth-boards platform.

    Parameters
    ----------
    cfg : Config
        The core.
    clock_mhz : float
        The core's clock: the fastest PLL output not above it; below the iCE40 PLL's range
        (16 MHz), the board's oscillator itself when it is not faster (no PLL: the platform's
        clock domain, with its power-on reset).
    family : "ice40" | "ecp5"
        Which PLL to instantiate.
    leds : ((name, number), (name, number))
        The error and link-error LEDs.
    baud : int
        UART speed of the bridge (the board's USB serial port).

    Pins: the board's default clock (into the PLL), ``uart`` 0 (rx, tx), and LEDs: LED 0 lit
    while the host-protocol error code is nonzero, LED 1 on a lost serial byte (``link_error``).
    The core is held in reset until the PLL locks. ``fout`` is the core's clock (MHz) once
    elaborated.
    """

    def __init__(self, cfg, family: str, leds, baud: int, clock_mhz: float):
        self.cfg, self.family, self.leds, self.baud = cfg, family, leds, baud
        self.clock_mhz = clock_mhz
        self.pll = None  # the PllSetting, known once elaborated for a platform
        self.fout = None

    def elaborate(self, platform):
        want = self.clock_mhz
        fin = platform.default_clk_frequency / 1e6
        # (the PLL setting first: a clock no PLL makes fails before any module is made)
        if self.family == "ice40" and want < ICE40_PLL_MIN_MHZ and fin <= want:
            self.pll = None  # the oscillator: the platform makes the sync domain
        else:
            self.pll = (ice40_pll if self.family == "ice40" else ecp5_pll)(fin, want)
        self.fout = self.pll.fout if self.pll else fin
        m = Module()
        if self.pll is not None:
            # driven by the PLL. nextpnr derives the PLL output's constraint from the board
            # clock's (the platform's, on its pad) and the PLL's dividers: "Derived frequency
            # constraint of 33.0 MHz for net clk", the PLL's own output (33.03). A constraint
            # on the domain's clock named a net the flattened design no longer has
            # (pll.reset_sync.clk), and nextpnr warned that it ignored it
            m.domains.sync = ClockDomain("sync")
            pad = platform.request(platform.default_clk, dir="-")
            if self.family == "ice40":
                m.submodules.pll = Ice40Pll(pad, self.pll)
            else:
                m.submodules.clk_buf = clk = io.Buffer("i", pad)
                m.submodules.pll = Ecp5Pll(clk.i, self.pll)
        # the core as the same Verilog `snngen synth` synthesizes (rtl_gen/synth.py), so the
        # board build's yosys sees what the synthesis figures were measured on (read from
        # Amaranth's RTLIL, yosys keeps a read-during-write emulation the Verilog's memories
        # are spared: 5,921 instead of 5,223 logic cells for the up5k core)
        platform.add_file(f"{SERIAL_TOP}.v",
                          serial_verilog_text(self.cfg, divisor_for(self.fout * 1e6, self.baud)))
        error, link_error, tx_o = Signal(8), Signal(), Signal()
        uart = platform.request("uart", 0, dir="-")
        m.submodules.rx_buf = rx = io.Buffer("i", uart.rx)
        m.submodules.tx_buf = tx = io.Buffer("o", uart.tx)
        m.submodules.core = Instance(SERIAL_TOP, i_clk=ClockSignal("sync"),
                                     i_rst=ResetSignal("sync"), i_rx=rx.i, o_tx=tx_o,
                                     o_error=error, o_link_error=link_error)
        m.d.comb += tx.o.eq(tx_o)
        for k, (name, number) in enumerate(self.leds):
            m.submodules[f"led{k}"] = led = io.Buffer("o", platform.request(name, number,
                                                                            dir="-"))
            m.d.comb += led.o.eq(error != 0 if k == 0 else link_error)
        return m
