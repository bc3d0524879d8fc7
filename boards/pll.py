"""PLLs of the supported FPGA families: parameter search and the primitive's instance.

The search enumerates the dividers of each PLL within the datasheet's ranges (Lattice
TN1251 iCE40 sysCLOCK PLL; FPGA-TN-02200 ECP5 sysCLOCK PLL) and keeps the fastest setting not above
the asked frequency; ties go to the higher VCO frequency (less jitter).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import ClockSignal, Const, Elaboratable, Instance, Module, Signal
from amaranth.lib.cdc import ResetSynchronizer

__all__ = ["PllSetting", "ice40_pll", "ecp5_pll", "Ice40Pll", "Ecp5Pll", "ICE40_PLL_MIN_MHZ"]

#: The iCE40 PLL's slowest output (MHz).
ICE40_PLL_MIN_MHZ = 16


@dataclass(frozen=True)
class PllSetting:
    """Dividers of one PLL and the frequencies they give (MHz)."""

    fin: float
    fout: float
    fvco: float
    params: dict


def _best(cands, want: float) -> tuple:
    """The fastest setting not above ``want`` (timing was closed for ``want``), else the
    closest; ties to the higher VCO."""
    if not cands:
        raise ValueError(f"no PLL setting reaches {want:g} MHz")
    below = [c for c in cands if c[0] <= want * (1 + 1e-9)]
    return min(below or cands, key=lambda c: (abs(c[0] - want), -c[1]))


def ice40_pll(fin: float, want: float) -> PllSetting:
    """SB_PLL40 (simple feedback): ``fout = fin (DIVF + 1) / ((DIVR + 1) 2**DIVQ)`` with the
    phase detector at 10..133 MHz and the VCO at 533..1066 MHz; ``fout`` 16..275 MHz."""
    if not ICE40_PLL_MIN_MHZ <= want <= 275:
        raise ValueError(f"iCE40 PLL output {want:g} MHz: allowed {ICE40_PLL_MIN_MHZ} to 275 MHz")
    cands = []
    for divr in range(16):
        fpfd = fin / (divr + 1)
        if not 10 <= fpfd <= 133:
            continue
        for divf in range(128):
            fvco = fpfd * (divf + 1)
            if not 533 <= fvco <= 1066:
                continue
            for divq in range(1, 7):
                fout = fvco / 2 ** divq
                if 16 <= fout <= 275:
                    cands.append((fout, fvco, divr, divf, divq, fpfd))
    fout, fvco, divr, divf, divq, fpfd = _best(cands, want)
    filt = next(i for i, hi in enumerate((17, 26, 44, 66, 101), start=1) if fpfd < hi) \
        if fpfd < 101 else 6
    return PllSetting(fin, fout, fvco, {"DIVR": divr, "DIVF": divf, "DIVQ": divq,
                                        "FILTER_RANGE": filt})


def ecp5_pll(fin: float, want: float) -> PllSetting:
    """EHXPLLL (CLKOP feedback): ``fout = fin CLKFB_DIV / CLKI_DIV`` with the VCO
    ``fout * CLKOP_DIV`` at 400..800 MHz and the phase detector at 3.125..400 MHz."""
    if not 3.125 <= want <= 400:
        raise ValueError(f"ECP5 PLL output {want:g} MHz: allowed 3.125 to 400 MHz")
    cands = []
    for clki in range(1, 129):
        fpfd = fin / clki
        if not 3.125 <= fpfd <= 400:
            continue
        for clkfb in range(1, 81):
            fout = fpfd * clkfb
            for clkop in range(1, 129):
                fvco = fout * clkop
                if 400 <= fvco <= 800:
                    cands.append((fout, fvco, clki, clkfb, clkop))
    fout, fvco, clki, clkfb, clkop = _best(cands, want)
    return PllSetting(fin, fout, fvco, {"CLKI_DIV": clki, "CLKFB_DIV": clkfb,
                                        "CLKOP_DIV": clkop})


class Ice40Pll(Elaboratable):
    """Drives the ``sync`` domain (defined by the parent) from an SB_PLL40_PAD on the board's clock pad; reset held until the
    PLL locks (and two cycles after, synchronously released).

    ``pad``: the clock pin requested with ``dir="-"``."""

    def __init__(self, pad, setting: PllSetting):
        self.pad, self.setting = pad, setting

    def elaborate(self, platform):
        m = Module()
        locked, clk = Signal(), Signal()
        p = self.setting.params
        m.submodules.pll = Instance(
            "SB_PLL40_PAD",
            p_FEEDBACK_PATH="SIMPLE", p_DIVR=p["DIVR"], p_DIVF=p["DIVF"], p_DIVQ=p["DIVQ"],
            p_FILTER_RANGE=p["FILTER_RANGE"],
            io_PACKAGEPIN=self.pad.io, i_RESETB=Const(1), i_BYPASS=Const(0),
            o_PLLOUTGLOBAL=clk, o_LOCK=locked)
        m.d.comb += ClockSignal("sync").eq(clk)
        m.submodules.reset_sync = ResetSynchronizer(~locked, domain="sync")
        return m


class Ecp5Pll(Elaboratable):
    """Drives the ``sync`` domain (defined by the parent) from an EHXPLLL fed by ``clk`` (the board's clock input signal);
    reset held until the PLL locks."""

    def __init__(self, clk, setting: PllSetting):
        self.clk, self.setting = clk, setting

    def elaborate(self, platform):
        m = Module()
        locked, clkop = Signal(), Signal()
        p = self.setting.params
        m.submodules.pll = Instance(
            "EHXPLLL",
            p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
            p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_CLKOP_ENABLE="ENABLED",
            p_CLKOP_FPHASE=0, p_CLKOP_CPHASE=p["CLKOP_DIV"] - 1, p_FEEDBK_PATH="CLKOP",
            p_CLKI_DIV=p["CLKI_DIV"], p_CLKFB_DIV=p["CLKFB_DIV"], p_CLKOP_DIV=p["CLKOP_DIV"],
            a_FREQUENCY_PIN_CLKI=f"{self.setting.fin:g}",
            a_FREQUENCY_PIN_CLKOP=f"{self.setting.fout:g}",
            i_CLKI=self.clk, i_CLKFB=clkop, i_RST=Const(0), i_STDBY=Const(0),
            i_PHASESEL0=Const(0), i_PHASESEL1=Const(0), i_PHASEDIR=Const(1),
            i_PHASESTEP=Const(1), i_PHASELOADREG=Const(1), i_PLLWAKESYNC=Const(0),
            i_ENCLKOP=Const(0), o_CLKOP=clkop, o_LOCK=locked)
        m.d.comb += ClockSignal("sync").eq(clkop)
        m.submodules.reset_sync = ResetSynchronizer(~locked, domain="sync")
        return m
