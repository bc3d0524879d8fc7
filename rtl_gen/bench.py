"""``snngen bench``: run the benchmarks in bench/ and print their headline figures.

Each benchmark is a script in the repository's ``bench/`` folder that prints its own table and
writes ``bench/results/<name>.json`` (see each script's docstring). :func:`run_benches` runs a
selection of them in turn, each in its own Python process (so one benchmark's threads and
caches do not disturb the next one's timings), then :func:`summary` reads the JSON files back
and prints the figures people compare configs by: cycles per training sample (serial / dual /
dense), forward efficiency against the event bound, samples/s at Fmax and the speed-up over
the PyTorch CPU baseline measured in the same run, energy per sample, simulation speed and
golden-model speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

__all__ = ["BENCH_DIR", "RESULTS", "Bench", "BENCHES", "DEFAULT_BENCHES", "BenchOptions",
           "run_benches", "summary", "BenchError"]

#: The repository's benchmark scripts (the package is installed editable from the checkout).
BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"
#: Where they write their JSON (bench/_results.py; ``SNNGEN_BENCH_RESULTS`` moves it).
RESULTS = BENCH_DIR / "results"


class BenchError(RuntimeError):
    """A benchmark script is missing or exited with an error."""


@dataclass(frozen=True)
class BenchOptions:
    """What the user chose: the config the single-config benchmarks measure, the configs the
    per-config ones compare, the synthesis runs (``CONFIG:TARGET``), and how much to run
    (``quick`` trims sample counts and repeats for a fast look; the figures are noisier)."""

    config: str = "default"
    configs: tuple[str, ...] = ("tiny", "default", "up5k", "ecp5")
    synth_runs: tuple[str, ...] = ("tiny:ecp5-85k", "up5k:ice40-up5k")
    quick: bool = False
    scheduler: str | None = None
    workers: int = 2
    results: Path = RESULTS


@dataclass(frozen=True)
class Bench:
    """One benchmark script and how to call it for the given options."""

    script: str
    what: str
    args: Callable[[BenchOptions], list[str]]


BENCHES: dict[str, Bench] = {
    "golden_speed": Bench(
        "golden_speed.py", "golden-model training samples/s, fixed and float",
        lambda o: ["--config", o.config] + (["--samples", "100", "--repeats", "3"] if o.quick
                                           else [])),
    "schedule": Bench(
        "schedule.py", "cycles per training sample: serial, dual, dense",
        lambda o: list(o.configs)),
    "forward_cycles": Bench(
        "forward_cycles.py", "inference cycles against the event bound",
        lambda o: ["--config", o.config] + (["--epochs", "1"] if o.quick else [])),
    "energy": Bench(
        "energy.py", "energy per training sample and inference, SNN vs ANN, sparsity",
        lambda o: list(o.configs) + (["--samples", "50"] if o.quick else [])),
    "sim_speed": Bench(
        "sim_speed.py", "Verilator simulation speed of the core",
        lambda o: ["--config", o.config, "--samples", "10" if o.quick else "40"]),
    "synth": Bench(
        "synth.py", "area, Fmax, samples/s at Fmax against the CPU in the same run",
        lambda o: list(o.synth_runs) + (["--samples", "50", "--repeats", "2"] if o.quick
                                       else [])),
    "ablation": Bench(
        "ablation.py", "accuracy with and without the learnable threshold and centering",
        lambda o: ["--config", o.config, "--workers", str(o.workers)]
        + (["--epochs", "1"] if o.quick else [])),
    "dse": Bench(
        "dse.py", "design-space sweep on Dask: area, cycles and accuracy, Pareto front",
        lambda o: ["--workers", str(o.workers)]
        + (["--scheduler", o.scheduler] if o.scheduler else [])),
}

#: What ``snngen bench`` runs when no benchmark is named (``ablation`` and ``dse`` train many
#: networks or synthesize many cores; name them to run them).
DEFAULT_BENCHES = ("golden_speed", "schedule", "forward_cycles", "energy", "sim_speed", "synth")


def run_benches(names, opts: BenchOptions, echo: Callable[[str], None] = print) -> dict:
    """Run the named benchmarks in order, their output passing through; return the seconds
    each took. Raises :class:`BenchError` at the first one that fails."""
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        raise BenchError(f"unknown benchmark {unknown[0]!r}: allowed {', '.join(BENCHES)}")
    missing = [BENCHES[n].script for n in names if not (BENCH_DIR / BENCHES[n].script).exists()]
    if missing:
        raise BenchError(f"{BENCH_DIR / missing[0]} not found: snngen bench runs the scripts of "
                         "a source checkout (pip install -e .)")
    seconds = {}
    for n in names:
        b = BENCHES[n]
        cmd = [sys.executable, b.script, *b.args(opts)]
        echo(f"\n=== {n}: {b.what}\n$ python bench/{' '.join(cmd[1:])}")
        t0 = time.perf_counter()
        env = {**os.environ, "SNNGEN_BENCH_RESULTS": str(Path(opts.results).resolve())}
        rc = subprocess.run(cmd, cwd=BENCH_DIR, env=env).returncode
        seconds[n] = time.perf_counter() - t0
        if rc != 0:
            raise BenchError(f"bench/{b.script} exited with {rc}")
    return seconds


def _load(results: Path, name: str):
    p = results / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _rows(data, config: str | None = None) -> list[dict]:
    rows = data if isinstance(data, list) else [data] if data else []
    return [r for r in rows if config is None or r.get("config") == config]


def summary(results: Path = RESULTS, config: str = "default") -> tuple[list[str], dict]:
    """The headline figures from the JSON files in ``results``: lines for people and a dict
    for machines. A benchmark that has not been run is named with the command that runs it."""
    lines, out = [], {}

    def missing(name: str) -> None:
        lines.append(f"{name}: no results (snngen bench {name})")

    sched = _rows(_load(results, "schedule"))
    if sched:
        lines.append("cycles per training sample (timing model = RTL counters):")
        lines.append(f"  {'config':<9}{'serial':>8}{'dual':>8}{'dense':>8}{'dual saves':>12}"
                     f"{'dense/event':>13}")
        for r in sched:
            c = r["cycles_per_sample"]
            lines.append(f"  {r['config']:<9}{c['serial']:>8.0f}{c['dual']:>8.0f}"
                         f"{c['dense']:>8.0f}{100 * r['dual_reduction']:>11.1f}%"
                         f"{r['sparsity_speedup']:>12.2f}x")
        out["schedule"] = {r["config"]: {**r["cycles_per_sample"],
                                         "dual_reduction": r["dual_reduction"],
                                         "sparsity_speedup": r["sparsity_speedup"]}
                           for r in sched}
    else:
        missing("schedule")

    fwd = _load(results, "forward_cycles")
    if fwd:
        eff = fwd["event_bound_per_sample"] / fwd["cycles_per_sample"]
        lines.append(f"inference, {fwd['config']}: {fwd['cycles_per_sample']:.0f} cycles vs "
                     f"event bound {fwd['event_bound_per_sample']:.0f}: efficiency "
                     f"{100 * eff:.1f} %")
        out["event_efficiency"] = {"config": fwd["config"], "efficiency": eff,
                                   "cycles_per_sample": fwd["cycles_per_sample"],
                                   "event_bound": fwd["event_bound_per_sample"]}
    else:
        missing("forward_cycles")

    synth = _rows(_load(results, "synth"))
    if synth:
        lines.append("on FPGAs (yosys + nextpnr), against the float model on this CPU in the "
                     "same run:")
        for r in synth:
            head = f"  {r['config']} on {r['target']}: "
            if r.get("samples_per_s"):
                lines.append(head + f"Fmax {r['fmax_mhz']:.1f} MHz, {r['logic_cells']} logic "
                             f"cells, {r['samples_per_s']:,.0f} training samples/s vs CPU "
                             f"{r['cpu_samples_per_s']:,.0f}/s = {r['speedup']:.1f}x")
            else:
                why = "does not fit" if not r["fits"] else "not placed"
                lines.append(head + f"{why} ({r['logic_cells']} logic cells); at "
                             f"{r['clock_mhz']:g} MHz it would be "
                             f"{r['speedup_at_clock']:.1f}x the CPU")
        out["synth"] = [{k: r.get(k) for k in ("config", "target", "fits", "fmax_mhz",
                                               "logic_cells", "samples_per_s",
                                               "cpu_samples_per_s", "speedup")} for r in synth]
    else:
        missing("synth")

    energy = _rows(_load(results, "energy"))
    if energy:
        lines.append("energy model (45 nm figures, docs/energy.md):")
        for r in energy:
            parts = [f"{r[k]:,.0f} pJ {label}" for k, label in (
                ("train_pj", "per training sample"), ("infer_pj", "per inference"))
                if isinstance(r.get(k), (int, float))]
            for k, label in (("snn_over_ann", "SNN/ANN"), ("dense_over_event", "dense/event")):
                if isinstance(r.get(k), (int, float)):
                    parts.append(f"{label} {r[k]:.2f}x")
            lines.append(f"  {r.get('config')}: " + ", ".join(parts))
        out["energy"] = energy
    else:
        missing("energy")

    sim = _load(results, "sim_speed")
    if sim:
        tr = sim["train"]
        lines.append(f"simulation ({sim['config']} core, Verilator + cocotb): "
                     f"{tr['cycles_per_s'] / 1e3:.0f}k cycles/s, {tr['samples_per_s']:.1f} "
                     f"training samples/s")
        out["sim_speed"] = {"config": sim["config"], "cycles_per_s": tr["cycles_per_s"],
                            "samples_per_s": tr["samples_per_s"]}
    else:
        missing("sim_speed")

    gold = _load(results, "golden_speed")
    if gold:
        lines.append(f"golden models ({gold['config']}, one CPU thread, batch 1): fixed "
                     f"{gold['fixed_samples_per_s']:,.0f}, float "
                     f"{gold['float_samples_per_s']:,.0f} training samples/s")
        out["golden_speed"] = {k: gold[k] for k in ("config", "fixed_samples_per_s",
                                                    "float_samples_per_s")}
    else:
        missing("golden_speed")
    return lines, out
