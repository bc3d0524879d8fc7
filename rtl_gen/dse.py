"""Design-space exploration on Dask: area, cycles and accuracy of many cores, and their Pareto
front.

A sweep (:class:`SweepSpec`) takes a base config and axes -- SIMD ``lanes``, fixed-point
``width`` (weight and state formats), time steps ``timesteps`` and ``schedule`` -- and builds
one config per point of their product (:meth:`SweepSpec.points`; every point is validated
before anything runs). Each point is one Dask task (:func:`run_point`, a top-level function of
plain data returning a plain dict) that

* synthesizes the point's core behind its UART bridge with yosys for the sweep's target
  (:func:`rtl_gen.synth.synthesize`, ``place=False``; cached under ``build/synth/``): logic
  cells, flip-flops, block RAMs, DSPs, whether it fits;
* trains the fixed-point golden model (bit-exact with the core) online on the training set
  for ``epochs`` epochs, exactly as :func:`golden.train.train` does, and puts every training
  sample's spike and error counts through the timing model (golden/timing.py, which the
  core's cycle counters equal) under the point's schedule: mean cycles per training sample;
* evaluates the trained model on the test set (the hardware's test accuracy) and the cycles of
  each test inference.

:func:`run_sweep` runs the points on a Dask cluster (a ``LocalCluster`` of ``workers``
processes by default, or the scheduler at an address), marks the Pareto front
(:func:`pareto_front`: fewest logic cells, fewest cycles per sample, highest accuracy) and
returns a JSON-ready dict; :func:`plot_pareto` draws it, :func:`format_table` prints it and
:func:`sweep` does all of it for a command line. docs/dse.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .config import Config, ConfigError, Problem, load_config

__all__ = ["SweepSpec", "DEFAULT_AXES", "OBJECTIVES", "parse_width", "width_fields",
           "run_point", "measure_learning", "dominates", "pareto_front", "run_sweep",
           "format_table", "plot_pareto", "sweep", "main"]

#: The default axes: 3 x 2 x 2 x 2 = 24 points.
DEFAULT_AXES = {
    "lanes": (1, 2, 4),
    "width": ("w8.7/v12.7", "w16.12/v16.10"),
    "timesteps": (2, 4),
    "schedule": ("serial", "dual"),
}
AXES = tuple(DEFAULT_AXES)

#: The Pareto objectives: (point field, "min" or "max").
OBJECTIVES = (("logic_cells", "min"), ("cycles_per_sample", "min"), ("accuracy", "max"))

#: Where points are synthesized when the spec names no folder: the worker's own checkout.
REPO = Path(__file__).resolve().parent.parent

_WIDTH = re.compile(r"^w(\d+)\.(\d+)(?:/v(\d+)\.(\d+))?$")
_WIDTH_TEXT = ("w<bits>.<frac> or w<bits>.<frac>/v<bits>.<frac>: the weight format "
               "Q(w_bits, w_frac) and optionally the state format Q(v_bits, v_frac), "
               "e.g. 'w8.7/v12.7'")


# ---- the sweep ------------------------------------------------------------------------------

def parse_width(text: str) -> dict[str, int]:
    """``'w8.7/v12.7'`` -> ``{'w_bits': 8, 'w_frac': 7, 'v_bits': 12, 'v_frac': 7}`` (the
    ``[fixed]`` fields it sets; ``'w8.7'`` sets only the weight format)."""
    m = _WIDTH.match(str(text).strip())
    if not m:
        raise ConfigError([Problem("width", text, _WIDTH_TEXT)], "sweep axes")
    w = {"w_bits": int(m[1]), "w_frac": int(m[2])}
    if m[3] is not None:
        w.update(v_bits=int(m[3]), v_frac=int(m[4]))
    return w


def width_fields(cfg: Config) -> str:
    """The width axis value of a config's formats, e.g. ``'w16.12/v16.10'``."""
    f = cfg.fixed
    return f"w{f.w_bits}.{f.w_frac}/v{f.v_bits}.{f.v_frac}"


def _width_label(text: str) -> str:
    return str(text).strip().replace(".", "q").replace("/", "")


def _point_name(base: str, lanes: int, width: str, t: int, schedule: str) -> str:
    tail = f"-l{lanes}-{_width_label(width)}-t{t}-{schedule}"
    return base[:max(1, 64 - len(tail))] + tail


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: a base config (preset name or TOML path), the target every point is
    synthesized for, the axes, and how long each point trains.

    Each point is the base config with ``hardware.lanes``, the ``[fixed]`` formats of its
    width, ``network.timesteps`` and ``hardware.schedule`` set, ``hardware.target`` set to the
    sweep's target, ``hardware.max_timesteps`` set to its ``timesteps`` (the core is built for
    exactly the steps it runs; with ``size_to_timesteps`` false it is the base's, raised to
    ``timesteps`` when smaller) and ``name`` set to ``<base>-l<lanes>-<width>-t<T>-<schedule>``
    (build folders and results differ).

    ``epochs``: training epochs per point (default: the base config's ``train.epochs``).
    ``build_dir``: where each point's synthesis is cached (``<dir>/<config hash>-<target>``;
    default ``build/synth`` of the worker's checkout). ``require_fit``: only points whose core
    fits the target can be on the Pareto front.
    """

    base: str = "tiny"
    target: str = "ecp5-85k"
    lanes: tuple[int, ...] = DEFAULT_AXES["lanes"]
    width: tuple[str, ...] = DEFAULT_AXES["width"]
    timesteps: tuple[int, ...] = DEFAULT_AXES["timesteps"]
    schedule: tuple[str, ...] = DEFAULT_AXES["schedule"]
    epochs: int | None = None
    build_dir: str | None = None
    size_to_timesteps: bool = True
    require_fit: bool = True

    def axes(self) -> dict[str, list]:
        return {a: list(getattr(self, a)) for a in AXES}

    def base_config(self) -> Config:
        return load_config(self.base)

    def points(self) -> list[dict]:
        """Every point of the sweep as plain data: ``{"name", "params": {lanes, width,
        timesteps, schedule}, "config": the validated config as a dict}``, in axis order.

        Raises :class:`ConfigError` before anything runs if the base config, the target, an
        axis value or any point's config is invalid, naming the field (e.g.
        ``hardware.lanes = 0: allowed an integer in [1, 64]``) and, for a point, which.
        """
        from golden.fixed_model import FixedArith
        from .synth import TARGETS

        base = self.base_config()
        problems = []
        if self.target not in TARGETS:
            problems.append(Problem("target", self.target, "one of " + ", ".join(TARGETS)))
        if self.epochs is not None and not (isinstance(self.epochs, int)
                                            and 1 <= self.epochs <= 1000):
            problems.append(Problem("epochs", self.epochs, "an integer in [1, 1000]"))
        for a in AXES:
            vals = list(getattr(self, a))
            if not vals:
                problems.append(Problem(f"axes.{a}", vals, "at least one value"))
            elif len(set(map(str, vals))) != len(vals):
                problems.append(Problem(f"axes.{a}", vals, "distinct values"))
        widths = {}
        for w in self.width:
            try:
                widths[w] = parse_width(w)
            except ConfigError as e:
                problems += e.problems
        if problems:
            raise ConfigError(problems, f"sweep of {self.base}")
        out = []
        for lanes, w, t, sched in itertools.product(self.lanes, self.width, self.timesteps,
                                                    self.schedule):
            name = _point_name(base.name, lanes, w, t, sched)
            max_t = t if self.size_to_timesteps else max(base.hardware.max_timesteps, t)
            params = {"lanes": lanes, "width": w, "timesteps": t, "schedule": sched}
            try:
                cfg = base.replace(name=name, network={"timesteps": t}, fixed=widths[w],
                                   hardware={"lanes": lanes, "schedule": sched,
                                             "target": self.target, "max_timesteps": max_t})
                FixedArith(cfg)  # the core runs the fixed model: no float-only loss
                if cfg.network.update != "sample":
                    raise ConfigError([Problem("network.update", cfg.network.update,
                                               "'sample' (the core updates once per sample)")])
            except ConfigError as e:
                where = ", ".join(f"{k}={v}" for k, v in params.items())
                raise ConfigError(e.problems, f"sweep point {name} ({where})") from None
            out.append({"name": name, "params": params, "config": cfg.as_dict()})
        return out

    def as_dict(self) -> dict:
        return {"base": self.base, "target": self.target, "axes": self.axes(),
                "epochs": self.epochs or self.base_config().train.epochs,
                "size_to_timesteps": self.size_to_timesteps, "require_fit": self.require_fit}


# ---- one point ------------------------------------------------------------------------------

def measure_learning(cfg: Config, epochs: int, data=None) -> dict:
    """Train the fixed model of ``cfg`` online for ``epochs`` epochs exactly as
    :func:`golden.train.train` does (same stream, order and shifts: the same test accuracy),
    timing every training sample under ``cfg.hardware.schedule``; then evaluate it on the test
    set, timing every inference."""
    import numpy as np
    import torch

    from golden import fixed_learner
    from golden.data import load_dataset
    from golden.learner import prediction
    from golden.timing import infer_timing, input_event_counts, sample_counts, train_timing
    from golden.train import TEST_STREAM, encode_split, epoch_samples
    from .memory_map import MemoryMap

    torch.set_num_threads(1)
    data = data or load_dataset(cfg)
    learner = fixed_learner(cfg)
    mm = MemoryMap.of(cfg)
    sched = cfg.hardware.schedule
    tot = np.zeros(4)
    n = online = 0
    for _, frames, labels, shifts in epoch_samples(cfg, data, epochs):
        online = 0
        for i in range(len(labels)):
            tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
            rt = train_timing(mm, sample_counts(mm, frames[i], tr, g), sched)
            tot += (rt.cycles, rt.forward, rt.backward, rt.update)
            online += int(prediction(tr.out)[0]) == int(labels[i])
        n += len(labels)
    test = encode_split(cfg, data.test_x, TEST_STREAM)
    correct, infer_cycles = 0, 0
    for s in range(0, len(test), 1024):
        batch = test[s:s + 1024]
        tr = learner.infer(batch)
        correct += int((prediction(tr.out).numpy() == data.test_y[s:s + 1024]).sum())
        for j in range(len(batch)):
            events = input_event_counts(batch[j], tr, j)
            infer_cycles += infer_timing(mm, events, sched == "dense").cycles
    return {
        "epochs": epochs, "train_samples": n,
        "cycles_per_sample": float(tot[0] / n),
        "phase_cycles": {k: float(tot[j] / n)
                         for j, k in enumerate(("forward", "backward", "update"), 1)},
        "cycles_per_inference": infer_cycles / len(test),
        "accuracy": correct / len(test), "test_samples": len(test),
        "online_accuracy": online / len(labels),
    }


def run_point(point: dict, target: str, epochs: int | None = None,
              build_dir: str | None = None) -> dict:
    """One sweep point (a Dask task): synthesize it with yosys for ``target``, train and time
    it; returns a flat JSON-ready dict (docs/dse.md). Raises on a tool failure (the sweep
    records the error)."""
    from .config import parse_config
    from .synth import synthesize

    t0 = time.perf_counter()
    cfg = parse_config(point["config"], source=point["name"])
    epochs = epochs or cfg.train.epochs
    out_dir = Path(build_dir or REPO / "build" / "synth") / f"{cfg.hash()}-{target}"
    t_syn = time.perf_counter()
    syn = synthesize(cfg, target, out_dir, place=False)
    t_syn = time.perf_counter() - t_syn
    learn = measure_learning(cfg, epochs)
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = None
    clock = cfg.hardware.clock_mhz
    return {
        "name": point["name"], **point["params"], "config_hash": cfg.hash(),
        "layers": list(cfg.network.layers),
        "fixed": {k: getattr(cfg.fixed, k) for k in ("w_bits", "w_frac", "v_bits", "v_frac")},
        "max_timesteps": cfg.hardware.max_timesteps, "target": target,
        "logic_cells": syn.logic_cells, "ffs": syn.ffs, "brams": syn.brams,
        "sprams": syn.sprams, "dsps": syn.dsps, "fits": not syn.problems,
        "problems": syn.problems, "capacity": syn.capacity,
        "yosys_seconds": round(syn.yosys_seconds, 2), "synth_seconds": round(t_syn, 2),
        "synth_dir": syn.out_dir,
        **learn,
        "clock_mhz": clock, "samples_per_s_at_clock": clock * 1e6 / learn["cycles_per_sample"],
        "seconds": round(time.perf_counter() - t0, 2), "worker": worker, "error": None,
    }


# ---- the Pareto front -----------------------------------------------------------------------

def dominates(a: dict, b: dict, objectives=OBJECTIVES) -> bool:
    """``a`` is no worse than ``b`` in every objective and better in at least one."""
    better = False
    for key, sense in objectives:
        x, y = (a[key], b[key]) if sense == "min" else (b[key], a[key])
        if x > y:
            return False
        better |= x < y
    return better


def pareto_front(points: list[dict], objectives=OBJECTIVES) -> list[str]:
    """Names of the points no other point dominates, in the given order (points equal in
    every objective are all on the front)."""
    return [p["name"] for p in points
            if not any(dominates(q, p, objectives) for q in points if q is not p)]


# ---- running it on Dask ---------------------------------------------------------------------

def _failed(point: dict, target: str, err: BaseException | str) -> dict:
    msg = err if isinstance(err, str) else f"{type(err).__name__}: {err}"
    return {"name": point["name"], **point["params"], "target": target, "error": msg}


def _line(p: dict) -> str:
    if p.get("error"):
        return f"{p['name']}: FAILED: {p['error'].splitlines()[0]}"
    fit = "" if p["fits"] else " (does not fit)"
    return (f"{p['name']}: {p['logic_cells']} cells{fit}, {p['cycles_per_sample']:.0f} "
            f"cycles/sample, {100 * p['accuracy']:.2f} % in {p['seconds']:.0f} s"
            + (f" on {p['worker']}" if p.get("worker") else ""))


def run_sweep(spec: SweepSpec, scheduler: str | None = None, workers: int = 2,
              progress: bool = True, log: Callable[[str], None] = print) -> dict:
    """Run every point of ``spec`` on Dask and return the result (docs/dse.md): ``base``,
    ``target``, ``axes``, ``points`` (in spec order, each with ``pareto``), ``pareto``
    (names), ``failed`` (names), ``workers``, ``scheduler``, ``seconds``.

    ``scheduler`` None starts a ``LocalCluster`` of ``workers`` single-threaded worker
    processes (closed at the end); an address (``tcp://host:8786``) uses that cluster's
    workers. A point that fails (a tool error, a lost worker) is recorded with its error; the
    others go on. Invalid points raise :class:`ConfigError` before the cluster starts.
    """
    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    points = spec.points()
    if scheduler is None and workers < 1:
        raise ConfigError([Problem("workers", workers, "an integer >= 1")], "sweep")
    say = log if progress else (lambda s: None)
    t0 = time.perf_counter()
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, memory_limit=0)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    results: list[dict | None] = [None] * len(points)
    try:
        n_workers = len(client.nthreads())
        where = scheduler or f"a LocalCluster at {cluster.scheduler_address}"
        say(f"sweep of {len(points)} point{'s' * (len(points) != 1)} of {spec.base} on "
            f"{spec.target}: {n_workers} worker{'s' * (n_workers != 1)}, {where}")
        if not n_workers:
            log(f"the scheduler at {scheduler} has no workers yet: the points wait for some")
        tag = uuid.uuid4().hex[:8]
        futures, index = [], {}
        for i, p in enumerate(points):
            f = client.submit(run_point, p, spec.target, spec.epochs, spec.build_dir,
                              key=f"snngen-dse-{p['name']}-{tag}")
            futures.append(f)
            index[f.key] = i
        bar = tqdm(as_completed(futures), total=len(points), unit="point", desc="sweep",
                   disable=None if progress else True, leave=False)
        emit = bar.write if log is print else log  # print: above the progress bar
        for done, f in enumerate(bar, 1):
            i = index[f.key]
            if f.status == "finished":
                results[i] = f.result()
            else:  # the task raised, or its worker was lost
                results[i] = _failed(points[i], spec.target, f.exception())
            if progress:
                emit(f"[{done}/{len(points)}] {_line(results[i])}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    ok = [p for p in results if not p.get("error")]
    candidates = [p for p in ok if p["fits"] or not spec.require_fit]
    front = set(pareto_front(candidates))
    for p in results:
        p["pareto"] = p["name"] in front
    failed = [p["name"] for p in results if p.get("error")]
    if failed:
        log(f"{len(failed)} of {len(points)} points failed: {', '.join(failed)}")
    return {**spec.as_dict(), "objectives": [list(o) for o in OBJECTIVES],
            "points": results, "pareto": [p["name"] for p in results if p["pareto"]],
            "failed": failed, "workers": n_workers,
            "scheduler": scheduler or "LocalCluster",
            "seconds": round(time.perf_counter() - t0, 1)}


# ---- reporting ------------------------------------------------------------------------------

def format_table(result: dict) -> str:
    """One line per point; ``*`` marks the Pareto front, failed points give their error."""
    head = ["", "point", "lanes", "width", "T", "schedule", "cells", "FFs", "BRAM", "DSP",
            "fits", "cycles/sample", "cycles/infer", "accuracy", "samples/s"]
    rows = []
    for p in result["points"]:
        if p.get("error"):
            rows.append(["!", p["name"], p["lanes"], p["width"], p["timesteps"], p["schedule"],
                         "failed", "", "", "", "", "", "", "", ""])
            continue
        rows.append(["*" if p["pareto"] else "", p["name"], p["lanes"], p["width"],
                     p["timesteps"], p["schedule"], p["logic_cells"], p["ffs"], p["brams"],
                     p["dsps"], "yes" if p["fits"] else "no", f"{p['cycles_per_sample']:.1f}",
                     f"{p['cycles_per_inference']:.1f}", f"{100 * p['accuracy']:.2f} %",
                     f"{p['samples_per_s_at_clock']:.0f}"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()
             for r in [head, *rows]]
    lines.append(f"* Pareto front ({len(result['pareto'])} of {len(result['points'])}): "
                 "fewest logic cells, fewest cycles per training sample, highest test "
                 "accuracy" + (" (among points that fit)" if result.get("require_fit") else ""))
    for p in result["points"]:
        if p.get("error"):
            lines.append(f"! {p['name']} failed: {p['error']}")
    n, w = len(result["points"]), result["workers"]
    lines.append(f"{n} point{'s' * (n != 1)} on {w} worker{'s' * (w != 1)} "
                 f"({result['scheduler']}) in {result['seconds']:.0f} s")
    return "\n".join(lines)


_MARKERS = {"serial": "o", "dual": "s", "dense": "^"}


def _short(p: dict) -> str:
    return f"l{p['lanes']} {p['width']} T{p['timesteps']} {p['schedule']}"


def plot_pareto(result: dict, path=None):
    """Logic cells (x) against cycles per training sample (y, log scale), colour the test
    accuracy, marker the schedule; Pareto points ringed and labelled, points that do not fit
    crossed. Returns the matplotlib Figure; with ``path``, also writes it as a PNG."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    ok = [p for p in result["points"] if not p.get("error")]
    fig = Figure(figsize=(8, 5.5), dpi=120)
    ax = fig.subplots()
    if ok:
        accs = [100 * p["accuracy"] for p in ok]
        lo, hi = min(accs), max(accs)
        hi = hi if hi > lo else lo + 1
        sc = None
        for sched, mk in _MARKERS.items():
            sel = [p for p in ok if p["schedule"] == sched]
            if not sel:
                continue
            sc = ax.scatter([p["logic_cells"] for p in sel],
                            [p["cycles_per_sample"] for p in sel],
                            c=[100 * p["accuracy"] for p in sel], cmap="viridis", vmin=lo,
                            vmax=hi, marker=mk, s=60, edgecolors="none", zorder=3)
        fig.colorbar(sc, ax=ax, label="test accuracy (%)")
        front = sorted((p for p in ok if p.get("pareto")), key=lambda p: p["logic_cells"])
        if front:
            ax.scatter([p["logic_cells"] for p in front],
                       [p["cycles_per_sample"] for p in front], s=180, facecolors="none",
                       edgecolors="crimson", linewidths=1.6, zorder=4)
            xs = [p["logic_cells"] for p in ok]
            mid = (min(xs) + max(xs)) / 2
            for p in front:  # labels point inwards, so they stay inside the axes
                right = p["logic_cells"] > mid
                ax.annotate(f"{_short(p)}\n{100 * p['accuracy']:.1f} %",
                            (p["logic_cells"], p["cycles_per_sample"]),
                            textcoords="offset points", xytext=(-9 if right else 9, 4),
                            ha="right" if right else "left", fontsize=6.5, color="crimson",
                            zorder=5)
        nofit = [p for p in ok if not p["fits"]]
        if nofit:
            ax.scatter([p["logic_cells"] for p in nofit],
                       [p["cycles_per_sample"] for p in nofit], marker="x", c="k", s=40,
                       zorder=4)
        ys = [p["cycles_per_sample"] for p in ok]
        if max(ys) > 3 * min(ys):
            ax.set_yscale("log")
        ax.margins(0.08)
    handles = [Line2D([], [], marker=mk, ls="", color="gray", label=s)
               for s, mk in _MARKERS.items() if any(p["schedule"] == s for p in ok)]
    handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec="crimson", ms=11,
                          label="Pareto front"))
    if any(not p["fits"] for p in ok):
        handles.append(Line2D([], [], marker="x", ls="", color="k", label="does not fit"))
    ax.legend(handles=handles, fontsize=8, loc="best")
    ax.set_xlabel(f"logic cells (yosys, {result['target']})")
    ax.set_ylabel("cycles per training sample")
    nfail = len(result.get("failed", []))
    ax.set_title(f"{result['base']}: {len(ok)} points, {len(result['pareto'])} on the Pareto "
                 f"front" + (f", {nfail} failed" if nfail else ""), fontsize=10)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    return fig


# ---- command line ---------------------------------------------------------------------------

def _csv(kind):
    def parse(text: str) -> tuple:
        vals = [v.strip() for v in text.split(",") if v.strip()]
        try:
            return tuple(kind(v) for v in vals)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: allowed comma-separated "
                                             f"{kind.__name__} values") from None
    return parse


def add_arguments(ap: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The sweep's options (``python -m rtl_gen.dse``, ``bench/dse.py``)."""
    d = SweepSpec()
    ap.add_argument("--base", default=d.base, help="base config: preset name or TOML file "
                    "(default %(default)s)")
    ap.add_argument("--target", default=d.target, help="FPGA part every point is synthesized "
                    "for (default %(default)s)")
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. "
                    "tcp://host:8786 (default: a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes "
                    "(default %(default)s)")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs per point "
                    "(default: the base config's train.epochs)")
    ap.add_argument("--lanes", type=_csv(int), default=d.lanes,
                    help="comma-separated hardware.lanes (default 1,2,4)")
    ap.add_argument("--width", type=_csv(str), default=d.width,
                    help="comma-separated formats w<bits>.<frac>[/v<bits>.<frac>] "
                    "(default w8.7/v12.7,w16.12/v16.10)")
    ap.add_argument("--timesteps", type=_csv(int), default=d.timesteps,
                    help="comma-separated network.timesteps (default 2,4)")
    ap.add_argument("--schedule", type=_csv(str), default=d.schedule,
                    help="comma-separated hardware.schedule: serial, dual, dense "
                    "(default serial,dual)")
    ap.add_argument("--build-dir", default=None, help="synthesis cache folder (default "
                    "build/synth of each worker's checkout)")
    ap.add_argument("--json", dest="json_path", default=None, help="write the result here")
    ap.add_argument("--plot", dest="plot_path", default=None, help="write the PNG here")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    return SweepSpec(base=args.base, target=args.target, lanes=tuple(args.lanes),
                     width=tuple(args.width), timesteps=tuple(args.timesteps),
                     schedule=tuple(args.schedule), epochs=args.epochs,
                     build_dir=args.build_dir)


def sweep(spec: SweepSpec, scheduler: str | None = None, workers: int = 2,
          json_path=None, plot_path=None, progress: bool = True,
          log: Callable[[str], None] = print) -> dict:
    """Run the sweep, print its table, write the JSON and the PNG when given paths; returns
    the result. Raises :class:`ConfigError` (nothing run, nothing written) on a bad spec."""
    spec.points()  # validate before anything starts
    result = run_sweep(spec, scheduler, workers, progress, log)
    log(format_table(result))
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(result, indent=2) + "\n")
        log(f"wrote {json_path}")
    if plot_path:
        plot_pareto(result, plot_path)
        log(f"wrote {plot_path}")
    return result


def main(argv: list[str] | None = None, prog: str = "python -m rtl_gen.dse") -> int:
    """``snngen sweep [options]``: exit 0, 1 if a point failed, 2 on a bad spec."""
    ap = add_arguments(argparse.ArgumentParser(prog=prog,
                                               description=__doc__.splitlines()[0]))
    args = ap.parse_args(argv)
    try:
        res = sweep(spec_from_args(args), args.scheduler, args.workers, args.json_path,
                    args.plot_path, not args.no_progress)
    except ConfigError as err:
        print(f"snngen: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # no scheduler at --scheduler (distributed's connect timeout)
        print(f"snngen: scheduler {args.scheduler}: {err}", file=sys.stderr)
        return 1
    return 1 if res["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
