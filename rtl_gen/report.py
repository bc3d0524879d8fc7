"""``snngen report``: one self-contained HTML page with the figures and plots of a config.

:func:`build_report` writes a single HTML file: inline CSS, every plot a matplotlib (Agg)
PNG embedded as a ``data:image/png;base64`` URI, no script, no link to any other file or
site, so it opens in any browser and can be mailed around. Sections (docs/report.md):

1. accuracy curves of the fixed-point (hardware) and float golden models, per epoch;
2. spike rasters of one test digit through the fixed model, every layer;
3. cycles per training sample per engine under the serial, dual and dense schedules, and
   inference cycles against the event bound (golden/timing.py, equal to the RTL counters);
4. area per hardware block (yosys with the hierarchy kept, :mod:`rtl_gen.area`);
5. the Pareto front of the design-space sweep (``bench/results/dse.json``);
6. energy (``bench/results/energy.json``);
7. performance: samples/s at Fmax, speed-up over the CPU, golden and simulation speed.

Figures come from the JSON files in ``results_dir`` when they hold this config, else they
are computed (training, timing model, yosys) or, when they cannot be, the section says so in
a visible note naming the command that produces its input. Nothing missing is an error.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .bench import RESULTS

__all__ = ["build_report", "Section", "SECTIONS", "png_figure"]

#: Section keys and titles, in page order.
SECTIONS = {
    "accuracy": "Accuracy curves",
    "rasters": "Spike rasters",
    "cycles": "Cycle breakdown per phase",
    "area": "Area per block",
    "pareto": "Pareto front (design-space sweep)",
    "energy": "Energy",
    "performance": "Performance",
}

PHASE_COLORS = {"forward": "#4C72B0", "backward": "#DD8452", "update": "#55A868",
                "control": "#8C8C8C"}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       max-width: 1150px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em;
       margin-top: 2em; } h3 { margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.55em; text-align: right; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
tr.hl td { font-weight: bold; background: #f7fbff; }
img { max-width: 100%; height: auto; display: block; margin: 0.6em 0; }
.note { background: #fff4e0; border-left: 5px solid #f0a020; padding: 0.5em 0.8em;
        margin: 0.6em 0; }
.note.missing { background: #fdecea; border-left-color: #d9534f; }
.src { color: #555; font-size: 0.88em; }
code { background: #f3f3f3; padding: 0 0.2em; border-radius: 3px; }
.ok { color: #2b7a2b; } .bad { color: #b52b27; }
"""


@dataclass
class Section:
    """One section of the page: ``status`` is ``ok``, ``partial`` (some input missing) or
    ``missing`` (nothing to show: the note says which command produces the input)."""

    key: str
    title: str
    body: list[str] = field(default_factory=list)
    source: str = ""
    lacks: bool = False

    @property
    def status(self) -> str:
        if not self.lacks:
            return "ok"
        return "partial" if self._has_content() else "missing"

    def add(self, *parts: str) -> None:
        self.body.extend(parts)

    def note(self, text: str, missing: bool = False, raw: bool = False) -> None:
        """A visible note (``missing``: an input is missing, shown in red)."""
        cls = "note missing" if missing else "note"
        self.body.append(f'<div class="{cls}">{text if raw else html.escape(text)}</div>')
        self.lacks = self.lacks or missing

    def missing(self, what: str, command: str) -> None:
        """A visible note: ``what`` is missing; ``command`` produces it."""
        self.note(f"{html.escape(what)} Produce it with <code>{html.escape(command)}</code>.",
                  missing=True, raw=True)

    def _has_content(self) -> bool:
        return any("<img" in b or "<table" in b for b in self.body)

    def html(self) -> str:
        return (f'<section id="{self.key}"><h2>{html.escape(self.title)}</h2>\n'
                + "\n".join(self.body) + "\n</section>")


# ---- small helpers ------------------------------------------------------------------------

def png_figure(fig, dpi: int = 100) -> str:
    """An ``<img>`` with the figure as a base64 PNG data URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained")


def _e(x) -> str:
    return html.escape(str(x))


def _fmt(v, digits: int | None = None) -> str:
    """A number for people: ``digits`` decimals, else by size (1,234 / 12.35 / 0.1235)."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if digits is not None:
            return f"{v:,.{digits}f}"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.2f}" if abs(v) >= 1 else f"{v:.4g}"
    return str(v)


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


class _Raw(str):
    """HTML made here (links, markup): put in a table as it is; everything else is escaped."""


def _table(head: list[str], rows: list[list], left: int = 1, hl: set[int] | None = None) -> str:
    """An HTML table; the first ``left`` columns left-aligned; rows in ``hl`` highlighted."""
    def cell(tag, i, x):
        return f'<{tag}{" class=l" if i < left else ""}>{x}</{tag}>'

    out = ["<table><tr>" + "".join(cell("th", i, _e(h)) for i, h in enumerate(head)) + "</tr>"]
    for r, row in enumerate(rows):
        cls = ' class="hl"' if hl and r in hl else ""
        out.append(f"<tr{cls}>" + "".join(cell("td", i, x if isinstance(x, _Raw)
                                               else _e(_fmt(x)))
                                          for i, x in enumerate(row)) + "</tr>")
    return "\n".join(out) + "</table>"


def _load_json(path: Path):
    """``(data, error)``: the parsed file, or None and why not."""
    if not path.exists():
        return None, None
    try:
        return json.loads(path.read_text()), None
    except (OSError, ValueError) as err:
        return None, f"{path} is not readable JSON: {err}"


def _rows(data) -> list[dict]:
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict):
        for k in ("rows", "results", "configs"):
            if isinstance(data.get(k), list):
                return [r for r in data[k] if isinstance(r, dict)]
        return [data]
    return []


# ---- what the sections share: data, the trained learner, timings -------------------------

class _Context:
    def __init__(self, cfg, results_dir: Path, log):
        self.cfg, self.results, self.log = cfg, Path(results_dir), log
        self._data = None
        self.trained: dict[str, object] = {}  # model -> Learner trained here
        self.seconds: dict[str, float] = {}

    @property
    def data(self):
        if self._data is None:
            from golden.data import load_dataset

            self._data = load_dataset(self.cfg)
        return self._data

    def fixed_learner(self):
        """The fixed learner trained here, else a fresh one (initial parameters)."""
        from golden import fixed_learner

        if "fixed" in self.trained:
            return self.trained["fixed"], "trained"
        return fixed_learner(self.cfg), "initial"

    def result(self, name: str):
        """``(data, error)`` of ``<results>/<name>.json`` (both None when it is missing)."""
        return _load_json(self.results / f"{name}.json")


# ---- 1. accuracy --------------------------------------------------------------------------

def _read_train_json(paths, cfg) -> tuple[dict, list[dict], list[str]]:
    """Golden results by model, RTL runs, and problems (unreadable, other config)."""
    runs, rtl, problems = {}, [], []
    for p in paths or []:
        p = Path(p)
        data, err = _load_json(p)
        if data is None:
            problems.append(err or f"{p} does not exist")
            continue
        if not isinstance(data, dict) or "model" not in data:
            problems.append(f"{p} is not a `snngen train --json` result (no 'model' field)")
            continue
        if data.get("config_hash") and data["config_hash"] != cfg.hash():
            problems.append(f"{p} was trained on config {data.get('config')!r} (hash "
                            f"{data['config_hash']}), not this {cfg.name!r} ({cfg.hash()}): "
                            "shown anyway")
        elif data.get("config") not in (None, cfg.name):
            problems.append(f"{p} is for config {data.get('config')!r}, not {cfg.name!r}: "
                            "shown anyway")
        if data["model"] == "rtl":
            rtl.append({**data, "_path": str(p)})
        elif "test_accuracy_per_epoch" in data:
            runs[data["model"]] = {**data, "_path": str(p)}
        else:
            problems.append(f"{p}: model {data['model']!r} without per-epoch accuracies")
    return runs, rtl, problems


def _accuracy(ctx: _Context, train_json, train: bool, epochs: int | None) -> Section:
    sec = Section("accuracy", SECTIONS["accuracy"])
    cfg = ctx.cfg
    runs, rtl, problems = _read_train_json(train_json, cfg)
    for p in problems:
        sec.note(p)
    sources = {m: f"file {r['_path']}" for m, r in runs.items()}
    for model in ("fixed", "float"):
        if model in runs:
            continue
        if not train:
            sec.missing(f"No accuracy curve of the {model} model (training is off and no "
                        "--train-json file has it).",
                        f"snngen train {cfg.name} --model {model} --json {model}.json"
                        f" (then --train-json {model}.json)")
            continue
        from golden.train import train as golden_train

        t0 = time.perf_counter()
        ctx.log(f"report: training the {model} model ({epochs or cfg.train.epochs} epochs) ...")
        res, learner = golden_train(cfg, model, epochs, progress=False,
                                    log=lambda *_: None, data=ctx.data)
        ctx.seconds[f"train_{model}"] = time.perf_counter() - t0
        runs[model] = res.to_json()
        ctx.trained[model] = learner
        sources[model] = (f"trained now: golden/train.py, {res.epochs} epochs, "
                          f"{res.seconds:.1f} s")
    if not runs:
        return sec
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    colors = {"fixed": "#4C72B0", "float": "#DD8452"}
    for model, r in sorted(runs.items()):
        c = colors.get(model, None)
        ep = np.arange(1, len(r["test_accuracy_per_epoch"]) + 1)
        name = "fixed point (hardware)" if model == "fixed" else model
        if r.get("train_accuracy_per_epoch"):
            ax.plot(ep, 100 * np.asarray(r["train_accuracy_per_epoch"]), "o-", color=c,
                    label=f"{name}: train")
        ax.plot(ep, 100 * np.asarray(r["test_accuracy_per_epoch"]), "s--", color=c,
                label=f"{name}: test")
        if r.get("online_accuracy_per_epoch"):
            ax.plot(ep, 100 * np.asarray(r["online_accuracy_per_epoch"]), ":", color=c,
                    alpha=0.6, label=f"{name}: online (while learning)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    n_ep = max(len(r["test_accuracy_per_epoch"]) for r in runs.values())
    ax.set_xticks(np.arange(1, n_ep + 1, max(1, n_ep // 10)))
    ax.set_xlim(0.5, n_ep + 0.5)
    ax.set_title(f"{cfg.name}: accuracy per epoch on {cfg.data.dataset}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    sec.add(png_figure(fig))
    rows = []
    for model, r in sorted(runs.items()):
        rates = r.get("spike_rate") or {}
        rows.append([model, r.get("epochs"), _pct(r.get("train_accuracy")),
                     _pct(r.get("test_accuracy")),
                     _pct(max(r["test_accuracy_per_epoch"], default=None)),
                     ", ".join(f"{k} {v:.3f}" for k, v in rates.items()) or "-",
                     _fmt(r.get("train_samples_per_s")), sources.get(model, "")])
    sec.add(_table(["model", "epochs", "train acc.", "test acc.", "best test", "spike rates",
                    "train samples/s", "source"], rows, hl=None))
    for r in rtl:
        sec.add(f'<p>Through the core (<code>snngen train --model rtl</code>, {_e(r["_path"])})'
                f": {_e(r.get('trained', '?'))} samples trained bit- and cycle-exact, "
                f"online accuracy {_pct(r.get('online_accuracy'))}, test accuracy through "
                f"the core {_pct(r.get('test_accuracy'))} on {_e(r.get('test_samples', 0))} "
                "samples.</p>")
    sec.source = "; ".join(f"{m}: {s}" for m, s in sorted(sources.items()))
    sec.add(f'<p class="src">Source: {_e(sec.source)}. Train accuracy is measured after each '
            "epoch on the whole training set (a separate spike encoding), test accuracy on the "
            "held-out digits; online accuracy counts the predictions made while learning.</p>")
    return sec


# ---- 2. spike rasters ---------------------------------------------------------------------

def _rasters(ctx: _Context, digit: int) -> Section:
    from golden.learner import prediction
    from golden.train import TEST_STREAM, encode_split

    sec = Section("rasters", SECTIONS["rasters"])
    cfg, data = ctx.cfg, ctx.data
    learner, state = ctx.fixed_learner()
    i = int(digit) % len(data.test_y)
    frames = encode_split(cfg, data.test_x, TEST_STREAM)[i:i + 1]  # the test stream's sample
    tr = learner.infer(frames)
    label, pred = int(data.test_y[i]), int(prediction(tr.out)[0])
    T = cfg.timesteps
    panels = [("input", frames[0].float().numpy())]
    for l, lt in enumerate(tr.layers):
        panels.append((f"lif{l + 1}", lt.spikes[0].float().numpy()))
    out = tr.out[0].double().numpy() / (1 << cfg.fixed.v_frac)  # Q(v_bits, v_frac) values
    side = int(round(math.sqrt(cfg.n_in)))
    show_img = side * side == cfg.n_in
    n = len(panels) + 1 + show_img
    fig = _figure(2.3 * n + 0.6, 4.2)
    axes = fig.subplots(1, n, gridspec_kw={"width_ratios": [1] * n})
    k = 0
    if show_img:
        ax = axes[0]
        ax.imshow(data.test_x[i].reshape(side, side), cmap="gray_r")
        ax.set_title(f"test digit {i}\nlabel {label}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        k = 1
    for name, s in panels:  # s: (T, n) of 0/1
        ax = axes[k]
        k += 1
        ax.imshow(s.T, aspect="auto", cmap="Greys", vmin=0, vmax=1, interpolation="nearest",
                  extent=(-0.5, T - 0.5, s.shape[1] - 0.5, -0.5))
        ax.set_title(f"{name}: {int(s.sum())} spikes\n({s.shape[1]} neurons x {T} steps)",
                     fontsize=9)
        ax.set_xlabel("time step")
        ax.set_xticks(range(T) if T <= 16 else range(0, T, max(1, T // 8)))
        if k == 1 + show_img:
            ax.set_ylabel("neuron")
    ax = axes[k]
    im = ax.imshow(out.T, aspect="auto", cmap="coolwarm", interpolation="nearest",
                   extent=(-0.5, T - 0.5, out.shape[1] - 0.5, -0.5),
                   vmin=-np.abs(out).max() - 1e-9, vmax=np.abs(out).max() + 1e-9)
    ax.set_title(f"readout o[t]\npredicted {pred} ({'right' if pred == label else 'wrong'})",
                 fontsize=9)
    ax.set_xlabel("time step")
    ax.set_ylabel("class")
    ax.set_yticks(range(out.shape[1]))
    ax.set_xticks(range(T) if T <= 16 else range(0, T, max(1, T // 8)))
    fig.colorbar(im, ax=ax, shrink=0.8)
    sec.add(png_figure(fig))
    which = ("the fixed-point model as trained above" if state == "trained" else
             "the fixed-point model with its initial parameters (no training in this report: "
             "the accuracy curves came from files)")
    counts = ", ".join(f"{nm} {int(s.sum())}/{s.size} ({s.mean():.3f})" for nm, s in panels)
    sec.add(f"<p>Test digit {i} (label {label}) rate-coded into {T} steps (PRBS31 test "
            f"stream, as in evaluation), through {_e(which)}. Black: a spike of that neuron "
            f"at that step. Spikes / neuron-steps (rate): {_e(counts)}. The readout sums "
            f"o[t] over the steps; the prediction is its arg max.</p>")
    sec.source = f"golden/learner.py forward trace ({state} fixed model)"
    return sec


# ---- 3. cycles ----------------------------------------------------------------------------

def _control_cycles(schedule: str, T: int) -> int:
    """Scheduler cycles of a training sample: one per stage plus the final one."""
    return T + 3 if schedule == "dual" else 2 * T + 2


def _matches(row: dict, cfg) -> bool:
    if row.get("config") != cfg.name:
        return False
    for k, v in (("layers", list(cfg.network.layers)), ("timesteps", cfg.timesteps),
                 ("lanes", cfg.hardware.lanes)):
        if k in row and row[k] != v:
            return False
    return True


def _cycles(ctx: _Context, samples: int) -> Section:
    from golden.workload import inference_cycles, schedule_cycles

    sec = Section("cycles", SECTIONS["cycles"])
    cfg = ctx.cfg
    T = cfg.timesteps
    data, err = ctx.result("schedule")
    if err:
        sec.note(err)
    row = next((r for r in _rows(data) if _matches(r, cfg)), None)
    if row:
        src = (f"bench/results/schedule.json ({row.get('samples')} samples of epoch "
               f"{row.get('epoch')}; refresh: python bench/schedule.py {cfg.name})")
    else:
        t0 = time.perf_counter()
        ctx.log(f"report: timing model over {samples} training samples ...")
        row = schedule_cycles(cfg, 1, samples, ctx.data)
        ctx.seconds["schedules"] = time.perf_counter() - t0
        src = (f"computed now: golden/timing.py over the first {row['samples']} samples of "
               f"epoch 1 learned by the fixed model (bench/results/schedule.json has no "
               f"{cfg.name} row; python bench/schedule.py {cfg.name} adds one over a whole "
               "epoch)")
    cyc = row["cycles_per_sample"]
    busy = {"serial": (row["fwd_cycles"], row["bwd_cycles"], row["upd_cycles"]),
            "dual": (row["fwd_cycles"], row["bwd_cycles"], row["upd_cycles"])}
    d = row.get("dense_engine_cycles") or {}
    if d:
        busy["dense"] = (d["fwd"], d["bwd"], d["upd"])
    scheds = [s for s in ("serial", "dual", "dense") if s in cyc and s in busy]

    fig = _figure(7.5, 4.3)
    ax = fig.add_subplot()
    x = np.arange(len(scheds))
    rows = []
    for j, s in enumerate(scheds):
        f, b, u = busy[s]
        ctl = _control_cycles(s, T)
        bottom = 0.0
        for name, v in (("forward", f), ("backward", b), ("update", u), ("control", ctl)):
            ax.bar(j, v, bottom=bottom, color=PHASE_COLORS[name], width=0.6,
                   label=name if j == 0 else None)
            bottom += v
        overlap = bottom - cyc[s]
        if overlap > 0.5:
            ax.bar(j, overlap, bottom=cyc[s], width=0.6, fill=False, hatch="///",
                   edgecolor="black", linewidth=0.0,
                   label="overlapped (forward of t+1 with backward of t)")
        ax.plot([j - 0.38, j + 0.38], [cyc[s]] * 2, color="black", linewidth=2)
        ax.annotate(f"{cyc[s]:,.0f}", (j, max(cyc[s], bottom)), textcoords="offset points",
                    xytext=(0, 4), ha="center", fontsize=9)
        rows.append([s, cyc[s], f, b, u, ctl, max(overlap, 0.0), cyc[s] / cyc["serial"]])
    ax.set_xticks(x, [f"{s}{' (config)' if s == cfg.hardware.schedule else ''}"
                      for s in scheds])
    ax.set_ylabel("cycles per training sample")
    ax.set_title(f"{cfg.name}: engine cycles per training sample (black bar: the sample's "
                 "cycles)", fontsize=10)
    ax.set_ylim(0, max(sum(busy[s]) + _control_cycles(s, T) for s in scheds) * 1.12)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    sec.add(png_figure(fig))
    sec.add(_table(["schedule", "cycles / sample", "forward", "backward", "update",
                    "control", "overlapped", "vs serial"],
                   [[r[0], *(_fmt(float(v), 0) for v in r[1:7]), f"{r[7]:.3f}"]
                    for r in rows],
                   hl={scheds.index(cfg.hardware.schedule)}
                   if cfg.hardware.schedule in scheds else None))
    red = row.get("dual_reduction")
    sp = row.get("sparsity_speedup")
    sec.add(f"<p>Each bar stacks the cycles each engine is busy (forward, backward, update) "
            f"and the scheduler's control cycles (one per stage and one at the end); the black "
            f"line is the sample's cycles. Under <b>dual</b> the forward pass of step t+1 "
            f"runs beside the backward pass of step t, so the hatched part is hidden. "
            f"Dual saves {_pct(red)} of serial; zero-skipping makes serial "
            f"{_fmt(sp, 2)}x faster than dense.</p>")
    sec.add(f'<p class="src">Source: {_e(src)}.</p>')

    # inference against the event bound
    fwd, err = ctx.result("forward_cycles")
    if err:
        sec.note(err)
    if isinstance(fwd, dict) and fwd.get("config") == cfg.name and fwd.get("layers"):
        isrc = (f"bench/results/forward_cycles.json ({fwd.get('samples')} test samples, "
                f"model trained {fwd.get('epochs')} epochs; refresh: python "
                f"bench/forward_cycles.py --config {cfg.name})")
    else:
        learner, state = ctx.fixed_learner()
        fwd = inference_cycles(cfg, learner, ctx.data)
        isrc = (f"computed now: golden/timing.py over the {fwd['samples']} test samples "
                f"through the {state} fixed model (bench/results/forward_cycles.json is not "
                f"for {cfg.name}; python bench/forward_cycles.py --config {cfg.name} writes it)")
    fig = _figure(7.5, 3.4)
    ax = fig.add_subplot()
    left = 0.0
    cmap = ["#4C72B0", "#8172B3", "#64B5CD", "#937860"]
    bound = fwd["event_bound_per_sample"]
    total = fwd["cycles_per_sample"]
    for l, lay in enumerate(fwd["layers"]):
        ax.barh(1, lay["event_cycles"], left=left, color=cmap[l % len(cmap)],
                label=f"{lay['layer']}: events x groups")
        left += lay["event_cycles"]
    ax.barh(0, bound, color="#4C72B0", alpha=0.45, label="event bound")
    over = sum(lay["overhead_cycles"] for lay in fwd["layers"])
    empty = sum(lay.get("empty_cycles", 0.0) for lay in fwd["layers"])
    ax.barh(1, over, left=left, color="#C44E52", label="LOAD, START, FIRE, drain")
    left += over
    if empty > 0.5:
        ax.barh(1, empty, left=left, color="#DA8BC3", label="empty-input ACC cycles")
        left += empty
    rest = total - left
    if rest > 0.5:
        ax.barh(1, rest, left=left, color=PHASE_COLORS["control"], label="scheduler")
    ax.set_yticks([0, 1], ["event bound", "cycles"])
    ax.set_xlabel("cycles per inference")
    ax.set_title(f"inference: {total:,.0f} cycles, event bound {bound:,.0f} "
                 f"(ratio {total / bound:.3f})" if bound else "inference", fontsize=10)
    fig.legend(fontsize=7, loc="outside lower center", ncol=3)
    sec.add("<h3>Inference against the event bound</h3>", png_figure(fig))
    sec.add(f"<p>The event bound counts only weight additions (one cycle per input spike and "
            f"group of lanes); the rest is the fixed cost of each layer-step.</p>"
            f'<p class="src">Source: {_e(isrc)}.</p>')
    sec.source = src
    return sec


# ---- 4. area ------------------------------------------------------------------------------

def _area(ctx: _Context, area, target: str | None, area_dir) -> Section:
    from .area import AreaResult, area_per_block, area_target, flat_resources
    from .serial_core import SERIAL_TOP
    from .synth import RESOURCES, TARGETS, SynthError

    sec = Section("area", SECTIONS["area"])
    cfg = ctx.cfg
    try:
        tname = area_target(cfg, target)
    except ValueError as err:
        sec.missing(f"No area: {err}.", f"snngen report {cfg.name} --target ecp5-85k")
        return sec
    cmd = f"python -m rtl_gen.area {cfg.name} --target {tname}"
    res = area if isinstance(area, AreaResult) else None
    if res is None:
        try:
            if area:
                ctx.log(f"report: area per block on {tname} (build/area/; yosys -noflatten "
                        "unless cached) ...")
            t0 = time.perf_counter()
            res = area_per_block(cfg, tname, area_dir, run=bool(area))
            ctx.seconds["area"] = time.perf_counter() - t0
        except SynthError as err:
            sec.missing(f"yosys failed, so there is no area per block: {err}.", cmd)
            return sec
    if res is None:
        sec.missing(f"No area per block for {cfg.name} on {tname}: it is not in the cache "
                    "and synthesis was not asked for (it takes one to several minutes of "
                    "yosys).", cmd)
        return sec
    tgt = TARGETS.get(res.target)
    res_keys = [k for k in RESOURCES if k != "sprams" or res.total.get(k)]
    blocks = sorted((b for b in res.blocks if any(b.resources.values())),
                    key=lambda b: (b.resources.get("logic_cells", 0), b.resources.get("ffs", 0)))
    shown = [k for k in res_keys if any(b.resources.get(k) for b in blocks)] or ["logic_cells"]
    fig = _figure(2.6 * len(shown) + 2.8, 0.32 * len(blocks) + 1.4)
    axes = fig.subplots(1, len(shown), sharey=True, squeeze=False)[0]
    y = np.arange(len(blocks))
    for ax, k in zip(axes, shown):
        vals = [b.resources.get(k, 0) for b in blocks]
        ax.barh(y, vals, color="#4C72B0" if k == "logic_cells" else "#55A868")
        ax.set_title(f"{RESOURCES[k]} ({res.total.get(k, 0):,})", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        for yi, v in zip(y, vals):
            if v:
                ax.annotate(f"{v:,}", (v, yi), textcoords="offset points", xytext=(2, -3),
                            fontsize=7)
        ax.margins(x=0.25)
    axes[0].set_yticks(y, [b.name for b in blocks], fontsize=8)
    fig.suptitle(f"{cfg.name} on {res.target}: area per block (yosys, hierarchy kept)",
                 fontsize=10)
    sec.add(png_figure(fig))
    tot_lc = max(res.total.get("logic_cells", 0), 1)
    rows = [[b.name, b.label, *(b.resources.get(k, 0) for k in res_keys),
             f"{100 * b.resources.get('logic_cells', 0) / tot_lc:.1f} %"]
            for b in sorted(res.blocks, key=lambda b: -b.resources.get("logic_cells", 0))]
    rows.append([_Raw("<b>sum of the blocks</b>"), "", *(res.total.get(k, 0) for k in res_keys),
                 "100.0 %"])
    rows.append(["yosys, hierarchical stat", "the same netlist",
                 *(res.design_total.get(k, 0) for k in res_keys), ""])
    flat = flat_resources(cfg, res.target, design=res.design_hash) if res.design_hash else None
    if flat:
        rows.append(["yosys, flattened", "snngen synth's estimate (build/synth/)",
                     *(flat.get(k, 0) for k in res_keys),
                     f"{100 * flat['logic_cells'] / tot_lc:.1f} %"])
    synth, _ = ctx.result("synth")
    placed = next((r for r in _rows(synth) if r.get("config") == cfg.name == res.config
                   and r.get("target") == res.target and res.top == SERIAL_TOP), None)
    if placed:
        how = "placed (nextpnr)" if placed.get("placed") else "yosys estimate"
        rows.append(["bench/results/synth.json", how,
                     *(placed.get(k, 0) for k in res_keys), ""])
    if tgt:
        rows.append(["capacity", tgt.part, *(tgt.capacity.get(k, 0) for k in res_keys), ""])
    sec.add(_table(["block", "what", *(RESOURCES[k] for k in res_keys), "share of LCs"], rows,
                   left=2))
    same = "equals" if res.total == res.design_total else "differs from"
    lc = " + ".join(f"{w} x {c}" if w > 1 else c
                    for c, w in tgt.yosys_cells["logic_cells"].items()) if tgt else "LUTs"
    sec.add(f"<p>Blocks partition the design: each Verilog module's own cells (times its "
            f"instances; numbered siblings such as the LIF units of the lanes summed), with "
            f"its RAM primitives (block RAM, LUT RAM) split off as <i>memories</i>. Their sum "
            f"{same} yosys' hierarchical count of the same netlist. Logic cells are "
            f"{_e(lc)}. "
            f"Flattened, yosys optimises across module boundaries (abc9 maps LUTs across "
            f"them; logic that drives outputs nobody reads goes), so the flattened count is a "
            f"few percent smaller; nextpnr's placed count adds route-through and packing "
            f"cells.</p>")
    if res.memories:
        mrows = [[m["memory"], m["block"], m["banks"],
                  ", ".join(f"{n} {c}" for c, n in sorted(m["cells"].items())),
                  *(m["resources"].get(k, 0) for k in res_keys)] for m in res.memories]
        sec.add("<h3>Memories</h3>",
                _table(["memory", "block", "banks", "primitives",
                        *(RESOURCES[k] for k in res_keys)], mrows, left=4),
                "<p>Memories of the engine (docs/architecture.md, 'Memories'): weights "
                "<code>wmem</code>, accumulators <code>amem</code>, membranes <code>umem</code>, "
                "history <code>hmem</code>, errors <code>dmem</code>, row sums <code>rmem</code>,"
                " ds <code>smem</code>, readout <code>omem</code>, thresholds <code>thmem</code>,"
                " gains <code>gmem</code>, frames <code>fmem</code>, counts <code>cmem</code>, "
                "spike history <code>shist</code>. Memories yosys maps to flip-flops are "
                "counted in their block's logic.</p>")
    trows = [[_Raw("&nbsp;" * 4 * m.depth + _e(m.path or res.top)), m.instances,
              *(m.own.get(k, 0) for k in res_keys), *(m.inclusive.get(k, 0) for k in res_keys)]
             for m in res.modules]
    sec.add("<h3>Module hierarchy</h3>",
            _table(["module", "instances", *(f"own {RESOURCES[k]}" for k in res_keys),
                    *(f"with submodules: {RESOURCES[k]}" for k in res_keys)], trows))
    when = "cached" if res.cached else f"yosys {res.yosys_seconds:.0f} s"
    sec.source = f"yosys -noflatten on {res.target} ({when}, {res.out_dir})"
    sec.add(f'<p class="src">Source: {_e(sec.source)}; refresh: <code>{_e(cmd)}</code> '
            "(a changed design re-runs yosys by itself).</p>")
    return sec


# ---- 5. Pareto ----------------------------------------------------------------------------

_DSE_COLS = ("name", "lanes", "timesteps", "schedule", "w_bits", "logic_cells",
             "cycles_per_sample", "accuracy")
#: Further fields of a sweep point worth a column when the points have them.
_DSE_EXTRA = ("width", "ffs", "brams", "dsps", "fits", "cycles_per_inference",
              "samples_per_s_at_clock")


def _dse_value(p: dict, col: str):
    """A point's field; ``w_bits`` may sit in its ``fixed`` formats."""
    if col == "w_bits" and "w_bits" not in p and isinstance(p.get("fixed"), dict):
        return p["fixed"].get("w_bits")
    return p.get(col)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _pareto_flags(points: list[dict], names) -> list[bool]:
    if any("pareto" in p for p in points):
        return [bool(p.get("pareto")) for p in points]
    if isinstance(names, list) and names:
        return [p.get("name") in names for p in points]
    # not said: the points with every objective that no other such point dominates
    from .dse import OBJECTIVES, dominates

    ok = [p for p in points if all(_num(p.get(k)) for k, _ in OBJECTIVES)]
    return [any(p is q for q in ok) and not any(dominates(q, p) for q in ok if q is not p)
            for p in points]


def _pareto(ctx: _Context) -> Section:
    sec = Section("pareto", SECTIONS["pareto"])
    data, err = ctx.result("dse")
    cmd = "snngen bench dse (make bench-sweep)"
    if data is None:
        sec.missing(err or "bench/results/dse.json is missing: no design-space sweep has run.",
                    cmd)
        return sec
    points = data.get("points") if isinstance(data, dict) else data
    points = [p for p in points or [] if isinstance(p, dict)]
    if not points:
        sec.missing("bench/results/dse.json holds no points.", cmd)
        return sec
    flags = _pareto_flags(points, data.get("pareto") if isinstance(data, dict) else None)
    accs = [p["accuracy"] for p in points if _num(p.get("accuracy"))]
    acc_scale = 100 if accs and max(accs) <= 1 else 1  # a fraction, or already percent
    plotted = [(p, f) for p, f in zip(points, flags)
               if _num(p.get("logic_cells")) and _num(p.get("cycles_per_sample"))]
    if plotted:
        from .dse import plot_pareto

        try:
            sec.add(png_figure(plot_pareto(data)))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            sec.note("bench/results/dse.json is not in the form rtl_gen/dse.py writes, so it "
                     f"cannot be plotted ({type(err).__name__}: {err}).", missing=True)
    else:
        sec.note("No point of bench/results/dse.json has both logic cells and cycles per "
                 "sample: nothing to plot.", missing=True)
    if len(plotted) < len(points):
        sec.note(f"{len(points) - len(plotted)} of {len(points)} points lack logic cells or "
                 "cycles per sample (e.g. a failed synthesis) and are not plotted.")
    front_pts = [p for p, f in zip(points, flags) if f]
    cols = [c for c in _DSE_COLS + _DSE_EXTRA
            if any(_dse_value(p, c) is not None for p in front_pts)]
    rows = [[f"{acc_scale * p[c]:.2f} %" if c == "accuracy" and _num(p.get(c))
             else _dse_value(p, c) for c in cols] for p in front_pts]
    sec.add("<h3>Pareto points</h3>" if rows else "",
            _table(cols, rows) if rows else "<p>No point is marked as on the front.</p>")
    meta = {k: v for k, v in data.items() if k not in ("points", "pareto")
            and (_num(v) or isinstance(v, str))} if isinstance(data, dict) else {}
    if meta:
        sec.add(_table(["field", "value"], [[k, v] for k, v in meta.items()]))
    base = next((data[k] for k in ("base", "config") if isinstance(data, dict)
                 and isinstance(data.get(k), str)), None)
    if base not in (None, ctx.cfg.name):
        sec.note(f"The sweep varies the {base} network (its own lanes, widths, time steps and "
                 f"schedules), not {ctx.cfg.name}.")
    sec.source = "bench/results/dse.json"
    sec.add(f'<p class="src">Source: bench/results/dse.json; refresh: <code>{_e(cmd)}'
            "</code>. A point is on the front when no other point has fewer logic cells, "
            "fewer cycles and a higher accuracy at once.</p>")
    return sec


# ---- 6. energy ----------------------------------------------------------------------------

def _numeric_dicts(d: dict, prefix: str = "", depth: int = 0) -> list[tuple[str, dict]]:
    """Every dictionary of numbers in ``d`` (two levels down at most), with its dotted key."""
    out = []
    for k, v in d.items():
        if isinstance(v, dict) and v:
            if all(_num(x) for x in v.values()):
                out.append((f"{prefix}{k}", v))
            elif depth < 1:
                out.extend(_numeric_dicts(v, f"{prefix}{k}.", depth + 1))
    return out


def _pj_comparisons(r: dict) -> list[tuple[str, dict]]:
    """Top-level energies of the same quantity side by side: ``train_pj``, ``ann_train_pj``,
    ``dense_train_pj`` -> ``{"this core": .., "ann": .., "dense": ..}``."""
    groups: dict[str, dict] = {}
    keys = [k for k, v in r.items() if _num(v) and k.lower().endswith("_pj")]
    for base in [k for k in keys if any(o != k and o.endswith("_" + k) for o in keys)]:
        groups[base] = {"this core" if k == base else k[:-len(base) - 1]: r[k]
                        for k in keys if k == base or k.endswith("_" + base)}
    return list(groups.items())


def _energy_rows(r: dict) -> list[list]:
    """The row's fields for a table: scalars as they are, a dictionary of numbers on one
    line, anything deeper named only."""
    rows = []
    for k, v in r.items():
        if _num(v) or isinstance(v, (str, bool)) or v is None:
            rows.append([k, v])
        elif isinstance(v, dict) and v and all(_num(x) for x in v.values()):
            rows.append([k, ", ".join(f"{a} {_fmt(float(b))}" for a, b in v.items())])
        elif isinstance(v, list) and len(v) <= 16 and all(_num(x) for x in v):
            rows.append([k, ", ".join(_fmt(x) for x in v)])
        else:
            rows.append([k, f"({type(v).__name__}, not shown)"])
    return rows


def _energy(ctx: _Context) -> Section:
    sec = Section("energy", SECTIONS["energy"])
    cfg = ctx.cfg
    data, err = ctx.result("energy")
    cmd = "snngen bench energy"
    if data is None:
        sec.missing(err or "bench/results/energy.json is missing: the energy model has not "
                    "been run.", cmd)
        return sec
    rows = _rows(data)
    mine = [r for r in rows if r.get("config") == cfg.name]
    if not mine and rows:
        names = sorted({str(r.get("config")) for r in rows})
        sec.note(f"bench/results/energy.json has no row for {cfg.name} (it has "
                 f"{', '.join(names)}); showing what it holds. Run "
                 f"`{cmd} --configs {cfg.name}` for this config.")
        mine = rows
    if not mine:
        sec.missing("bench/results/energy.json holds nothing to show.", cmd)
        return sec
    for r in mine:
        title = str(r.get("config", "")) or "energy"
        # comparisons (SNN vs ANN vs dense), then energies, then the other breakdowns
        dicts = _numeric_dicts(r)
        dicts.sort(key=lambda kv: "pj" not in kv[0].lower())
        shown = (_pj_comparisons(r) + dicts)[:6]
        if shown:
            cols = min(3, len(shown))
            nrow = -(-len(shown) // cols)
            fig = _figure(3.6 * cols + 0.4, 3.3 * nrow + 0.4)
            axes = fig.subplots(nrow, cols, squeeze=False).ravel()
            for ax, (name, dv) in zip(axes, shown):
                keys = list(dv)
                ax.bar(range(len(keys)), [dv[k] for k in keys],
                       color=[PHASE_COLORS.get(k, "#4C72B0") for k in keys])
                ax.set_xticks(range(len(keys)), keys, rotation=40 if len(keys) > 3 else 0,
                              ha="right" if len(keys) > 3 else "center",
                              fontsize=8 if len(keys) <= 8 else 7)
                ax.set_title(name, fontsize=9)
                ax.grid(axis="y", alpha=0.3)
                if "pj" in name.lower():
                    ax.set_ylabel("pJ")
            for ax in axes[len(shown):]:
                ax.set_visible(False)
            fig.suptitle(f"{title}: energy", fontsize=10)
            sec.add(png_figure(fig))
        sec.add(_table(["field", "value"], _energy_rows(r)))
    meta = {k: v for k, v in data.items() if _num(v) or isinstance(v, str)} \
        if isinstance(data, dict) and rows and rows[0] is not data else {}
    if meta:
        sec.add(_table(["field", "value"], [[k, v] for k, v in meta.items()]))
    sec.source = "bench/results/energy.json"
    sec.add(f'<p class="src">Source: bench/results/energy.json (the energy model, '
            f"golden/energy.py); refresh: <code>{_e(cmd)}</code>. Every field is listed; "
            "energies of the same quantity (e.g. <code>train_pj</code>, "
            "<code>ann_train_pj</code>) and dictionaries of numbers (e.g. pJ per phase) are "
            "plotted.</p>")
    return sec


# ---- 7. performance -----------------------------------------------------------------------

def _performance(ctx: _Context) -> Section:
    sec = Section("performance", SECTIONS["performance"])
    cfg = ctx.cfg
    synth, err = ctx.result("synth")
    if err:
        sec.note(err)
    rows = _rows(synth)
    mine = [r for r in rows if r.get("config") == cfg.name]
    if not mine:
        sec.missing(f"bench/results/synth.json has no {cfg.name} run"
                    + (f" (it has {', '.join(sorted({str(r.get('config')) for r in rows}))})"
                       if rows else " (the file is missing)") + ": no samples/s at Fmax.",
                    f"snngen bench synth --synth-run {cfg.name}:"
                    f"{cfg.hardware.target if cfg.hardware.target != 'sim' else 'ecp5-85k'}")
    else:
        fig = _figure(7.5, 0.9 * len(mine) + 1.9)
        ax = fig.add_subplot()
        labels, vals, colors, hatches = [], [], [], []
        for r in mine:
            t = r.get("target")
            for name, v, c, h in (
                    (f"{t}: core at Fmax {_fmt(r.get('fmax_mhz'), 1)} MHz",
                     r.get("samples_per_s"), "#55A868", ""),
                    (f"{t}: core at {r.get('clock_mhz', 0):g} MHz (config clock)",
                     r.get("samples_per_s_at_clock"), "#A9D5B3", "//"),
                    (f"{t}: CPU, float golden model", r.get("cpu_samples_per_s"), "#8C8C8C",
                     "")):
                if _num(v):
                    labels.append(name)
                    vals.append(v)
                    colors.append(c)
                    hatches.append(h)
        y = np.arange(len(vals))[::-1]
        ax.barh(y, vals, color=colors, hatch=hatches)
        for yi, v in zip(y, vals):
            ax.annotate(f"{v:,.0f}", (v, yi), textcoords="offset points", xytext=(3, -3),
                        fontsize=8)
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("training samples / s (log)")
        ax.set_title(f"{cfg.name}: training speed", fontsize=10)
        ax.margins(x=0.2)
        sec.add(png_figure(fig))
    if rows:
        trows = []
        for r in rows:
            trows.append([r.get("config"), r.get("target"), r.get("fits"),
                          _fmt(r.get("fmax_mhz"), 2), _fmt(r.get("clock_mhz")),
                          r.get("logic_cells"), r.get("ffs"), r.get("brams"), r.get("dsps"),
                          _fmt(r.get("cycles_per_sample")), _fmt(r.get("samples_per_s")),
                          _fmt(r.get("cpu_samples_per_s")),
                          f"{r['speedup']:.1f}x" if _num(r.get("speedup")) else "-",
                          f"{r['speedup_at_clock']:.1f}x" if _num(r.get("speedup_at_clock"))
                          else "-"])
        sec.add(_table(["config", "target", "fits", "Fmax MHz", "clock MHz", "logic cells",
                        "FFs", "BRAMs", "DSPs", "cycles / sample", "samples/s at Fmax",
                        "CPU samples/s", "speedup", "at clock"], trows, left=2,
                       hl={i for i, r in enumerate(rows) if r.get("config") == cfg.name}))
        for r in mine:
            for p in r.get("problems") or []:
                sec.note(f"{r.get('target')}: {p}")
        sec.add('<p class="src">Source: bench/results/synth.json (python bench/synth.py '
                "CONFIG:TARGET): cycles per sample from the timing model, Fmax from nextpnr, "
                "the CPU baseline the float golden model training online (batch 1, one "
                "thread) in the same run.</p>")
    gold, err = ctx.result("golden_speed")
    if err:
        sec.note(err)
    sim, err2 = ctx.result("sim_speed")
    if err2:
        sec.note(err2)
    srows = []
    if isinstance(gold, dict):
        for m in ("fixed", "float"):
            if _num(gold.get(f"{m}_samples_per_s")):
                srows.append([f"golden {m} model training (best of {gold.get('repeats', '?')})",
                              gold.get("config"), gold[f"{m}_samples_per_s"],
                              gold.get(f"{m}_samples_per_s_median"), "-"])
    if isinstance(sim, dict):
        for k in ("infer", "train", "train_readback", "train_observed"):
            v = sim.get(k)
            if isinstance(v, dict) and _num(v.get("samples_per_s")):
                srows.append([f"Verilator simulation: {k.replace('_', ' ')}", sim.get("config"),
                              v["samples_per_s"], "-", v.get("cycles_per_s")])
    if srows:
        sec.add("<h3>Golden model and simulation speed</h3>",
                _table(["what", "config", "samples/s", "median", "simulated cycles/s"], srows,
                       hl={i for i, r in enumerate(srows) if r[1] == cfg.name}))
        if any(r[1] != cfg.name for r in srows):
            sec.note(f"Some of these speeds were measured on another config than {cfg.name} "
                     "(column 'config').")
    missing = [n for n, d in (("golden_speed", gold), ("sim_speed", sim)) if d is None]
    for n in missing:
        sec.missing(f"bench/results/{n}.json is missing.", f"snngen bench {n}")
    sec.source = "bench/results/synth.json, golden_speed.json, sim_speed.json"
    return sec


# ---- the page -----------------------------------------------------------------------------

def _config_summary(cfg) -> str:
    from .engine import acc_bits

    net, f, hw = cfg.network, cfg.fixed, cfg.hardware
    rows = [
        ["layers", "-".join(map(str, net.layers))],
        ["time steps T", cfg.timesteps],
        ["neuron", f"LIF, leak {net.leak:g}, {net.reset} reset, {net.surrogate} surrogate "
                   f"(width {net.surrogate_width:g})"],
        ["learning", f"{net.loss} loss, threshold learning "
                     f"{'on' if net.learn_threshold else 'off'}, weight centering "
                     f"{'on' if net.weight_centering else 'off'}, update per {net.update}, "
                     f"lr 2^-{cfg.train.lr_shift}, {cfg.train.epochs} epochs"],
        ["widths", f"weights Q{f.w_bits - f.w_frac}.{f.w_frac} ({f.w_bits} bit), values "
                   f"Q{f.v_bits - f.v_frac}.{f.v_frac} ({f.v_bits} bit), accumulators "
                   f"{acc_bits(cfg)} bit"],
        ["hardware", f"{hw.lanes} lanes, {hw.schedule} schedule, up to {hw.max_layers} weight "
                     f"layers of {hw.max_width} neurons and {hw.max_timesteps} steps, "
                     f"{hw.weight_words:,} weight words, {hw.neuron_words:,} neuron words"],
        ["clock, target", f"{hw.clock_mhz:g} MHz, {hw.target}"],
        ["data", f"{cfg.data.dataset}, {cfg.data.code_bits}-bit rate code, test fraction "
                 f"{cfg.data.test_fraction:g}, seed {cfg.seed}"],
        ["config hash", cfg.hash()],
    ]
    return _table(["", ""], rows)


def _from_json(build, ctx: _Context, name: str, command: str) -> Section:
    """A section drawn from other tools' JSON: a shape it does not expect is a note."""
    try:
        return build(ctx)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        key = build.__name__.strip("_")
        sec = Section(key, SECTIONS[key])
        sec.missing(f"{ctx.results / (name + '.json')} does not have the shape this report "
                    f"reads ({type(err).__name__}: {err}).", command)
        return sec




def build_report(cfg, results_dir: Path | str = RESULTS,
                 out: Path | str = Path("report.html"), train_json=None, *,
                 epochs: int | None = None, train: bool = True, area=True,
                 area_target: str | None = None, area_dir: Path | str | None = None,
                 samples: int = 200, digit: int = 0, log=print) -> Path:
    """Write the report of ``cfg`` to ``out`` (one self-contained HTML file); returns it.

    Parameters
    ----------
    cfg : Config
    results_dir : folder of the benchmark JSON files (schedule, forward_cycles, synth, dse,
        energy, golden_speed, sim_speed); a missing file gives a visible note.
    out : the HTML file (its folder is created).
    train_json : ``snngen train --json`` files (``--model fixed``, ``float`` or ``rtl``);
        a golden model without one is trained here unless ``train`` is false.
    epochs : epochs of that training (default the config's ``train.epochs``).
    area : True: area per block from yosys (cached in ``build/area/``); False: only from
        the cache; or an :class:`rtl_gen.area.AreaResult` to show.
    area_target : FPGA family of the area (default: the config's target, ``ecp5-85k`` for
        ``sim``); ``area_dir``: its build folder.
    samples : training samples the timing model runs when schedule.json has no row for
        the config; ``digit``: the test sample of the spike rasters.
    log : progress messages (``None``: quiet).
    """
    log = log or (lambda *_: None)
    t0 = time.perf_counter()
    ctx = _Context(cfg, Path(results_dir), log)
    sections = [
        _accuracy(ctx, train_json, train, epochs),
        _rasters(ctx, digit),
        _cycles(ctx, samples),
        _area(ctx, area, area_target, area_dir),
        _from_json(_pareto, ctx, "dse", "snngen bench dse"),
        _from_json(_energy, ctx, "energy", "snngen bench energy"),
        _from_json(_performance, ctx, "synth", "snngen bench synth"),
    ]
    status = {"ok": _Raw('<span class="ok">shown</span>'),
              "partial": _Raw('<span class="bad">partly missing</span>'),
              "missing": _Raw('<span class="bad">missing</span>')}
    toc = _table(["section", "status", "source"],
                 [[_Raw(f'<a href="#{s.key}">{_e(s.title)}</a>'), status[s.status],
                   s.source or "-"] for s in sections])
    stamp = time.strftime("%Y-%m-%d %H:%M")
    spent = ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in ctx.seconds.items())
    spent = f" ({spent})" if spent else ""
    page = "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>snngen report: {_e(cfg.name)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body>",
        f"<h1>snngen report: {_e(cfg.name)}</h1>",
        f'<p class="src">Generated {stamp} by <code>snngen report</code> in '
        f"{time.perf_counter() - t0:.0f} s{_e(spent)}; results from {_e(ctx.results)}. One "
        "file, no external resources.</p>",
        "<h2>Configuration</h2>", _config_summary(cfg),
        "<h2>Contents</h2>", toc,
        *(s.html() for s in sections),
        "</body></html>",
    ])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    log(f"report: wrote {out} ({out.stat().st_size / 1024:.0f} kB) in "
        f"{time.perf_counter() - t0:.0f} s")
    return out
