"""Design-space exploration on Dask (rtl_gen/dse.py): the Pareto front, the sweep's points,
and a real sweep of two cores on a 2-worker LocalCluster (yosys, timing model, accuracy)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from golden import fixed_learner
from golden.data import load_dataset
from golden.timing import sample_counts, train_timing
from golden.train import epoch_samples, train
from rtl_gen.config import ConfigError, parse_config
from rtl_gen.dse import (SweepSpec, dominates, format_table, main, pareto_front, parse_width,
                         plot_pareto, run_sweep)
from rtl_gen.memory_map import MemoryMap


def _pt(name, cells, cycles, acc):
    return {"name": name, "logic_cells": cells, "cycles_per_sample": cycles, "accuracy": acc}


def test_dominance_in_each_objective():
    a = _pt("a", 100, 1000, 0.9)
    assert dominates(_pt("b", 90, 1000, 0.9), a)  # fewer cells
    assert dominates(_pt("c", 100, 999, 0.9), a)  # fewer cycles
    assert dominates(_pt("d", 100, 1000, 0.91), a)  # more accurate
    assert not dominates(a, a)  # equal: neither dominates
    assert not dominates(_pt("e", 90, 1100, 0.9), a)  # a trade-off
    assert not dominates(a, _pt("e", 90, 1100, 0.9))
    assert not dominates(_pt("f", 90, 900, 0.89), a)  # better in two, worse in accuracy


def test_pareto_front():
    pts = [
        _pt("small", 100, 2000, 0.80),
        _pt("fast", 300, 500, 0.80),
        _pt("accurate", 300, 2000, 0.95),
        _pt("dominated", 300, 2000, 0.80),  # by small, fast and accurate
        _pt("tie1", 200, 1000, 0.85),
        _pt("tie2", 200, 1000, 0.85),  # equal to tie1: both stay
        _pt("worse_tie", 200, 1000, 0.84),  # dominated by the ties (accuracy only)
        _pt("slowest", 100, 2001, 0.80),  # dominated by small (cycles only)
    ]
    assert pareto_front(pts) == ["small", "fast", "accurate", "tie1", "tie2"]
    assert pareto_front([]) == [] and pareto_front(pts[:1]) == ["small"]


def test_default_sweep_has_24_distinct_valid_points():
    spec = SweepSpec()
    pts = spec.points()
    assert len(pts) == 24
    assert len({p["name"] for p in pts}) == 24
    hashes = {parse_config(p["config"]).hash() for p in pts}
    assert len(hashes) == 24  # distinct build folders
    seen = set()
    for p in pts:
        cfg = parse_config(p["config"])
        par = p["params"]
        assert cfg.name == p["name"] and cfg.hardware.target == "ecp5-85k"
        assert cfg.hardware.lanes == par["lanes"] and cfg.timesteps == par["timesteps"]
        assert cfg.hardware.schedule == par["schedule"]
        assert cfg.hardware.max_timesteps == par["timesteps"]
        f = cfg.fixed
        assert (f.w_bits, f.w_frac, f.v_bits, f.v_frac) in ((8, 7, 12, 7), (16, 12, 16, 10))
        seen.add((par["lanes"], par["width"], par["timesteps"], par["schedule"]))
    assert seen == {(l, w, t, s) for l in (1, 2, 4) for w in ("w8.7/v12.7", "w16.12/v16.10")
                    for t in (2, 4) for s in ("serial", "dual")}


def test_width_parsing():
    assert parse_width("w8.7/v12.7") == {"w_bits": 8, "w_frac": 7, "v_bits": 12, "v_frac": 7}
    assert parse_width("w12.9") == {"w_bits": 12, "w_frac": 9}
    with pytest.raises(ConfigError, match=r"width = '8-bit': allowed w<bits>\.<frac>"):
        parse_width("8-bit")


@pytest.mark.parametrize("change,field", [
    ({"lanes": (1, 0)}, "hardware.lanes = 0: allowed an integer in [1, 64]"),
    ({"schedule": ("serial", "fast")}, "hardware.schedule = 'fast': allowed one of"),
    ({"timesteps": (2, 65)}, "network.timesteps = 65: allowed an integer in [1, 64]"),
    ({"width": ("w8.7/v12.8",)}, "fixed.v_frac = 8: allowed an integer in [0, 7]"),
    ({"width": ("w30.12",)}, "fixed.w_bits = 30: allowed an integer in [4, 24]"),
    ({"target": "sim"}, "target = 'sim': allowed one of ice40-up5k"),
    ({"lanes": (2, 2)}, "axes.lanes = [2, 2]: allowed distinct values"),
    ({"lanes": ()}, "axes.lanes = []: allowed at least one value"),
])
def test_invalid_axis_value_rejected_naming_the_field(change, field):
    with pytest.raises(ConfigError) as e:
        SweepSpec(**change).points()
    assert field in str(e.value)


def test_bad_spec_exits_2_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "d.json"
    assert main(["--lanes", "0", "--json", str(out), "--no-progress"]) == 2
    assert "hardware.lanes = 0" in capsys.readouterr().err and not out.exists()


def test_snngen_sweep_is_the_same_parser(tmp_path):
    out = tmp_path / "d.json"
    r = subprocess.run([sys.executable, "-m", "rtl_gen.cli", "sweep", "--timesteps", "2,99",
                        "--json", str(out)], capture_output=True, text=True)
    assert r.returncode == 2 and "network.timesteps = 99" in r.stderr and not out.exists()
    r = subprocess.run([sys.executable, "-m", "rtl_gen.cli", "sweep", "--help"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "usage: snngen sweep" in r.stdout and "--scheduler" in r.stdout


def _direct(cfg, epochs):
    """Mean cycles per training sample, straight from the fixed learner and the timing
    model, and the golden trainer's test accuracy."""
    data = load_dataset(cfg)
    learner, mm, cyc = fixed_learner(cfg), MemoryMap.of(cfg), []
    for _, frames, labels, shifts in epoch_samples(cfg, data, epochs):
        for i in range(len(labels)):
            tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
            cyc.append(train_timing(mm, sample_counts(mm, frames[i], tr, g),
                                    cfg.hardware.schedule).cycles)
    res, _ = train(cfg, "fixed", epochs, progress=False, log=lambda *a: None, data=data)
    return float(np.mean(cyc)), res.test_accuracy


def test_sweep_on_a_local_cluster(tmp_path):
    """Two tiny cores (1 and 2 lanes, T = 2) on a 2-worker LocalCluster, each through real
    yosys (a fresh build folder): cells > 0, cycles equal to the timing model's, accuracy
    equal to the golden trainer's; the JSON and the PNG are written."""
    spec = SweepSpec(base="tiny", lanes=(1, 2), width=("w8.7/v12.7",), timesteps=(2,),
                     schedule=("serial",), epochs=1, build_dir=str(tmp_path / "build"))
    lines = []
    res = run_sweep(spec, workers=2, progress=True, log=lines.append)
    assert res["workers"] == 2 and res["scheduler"] == "LocalCluster"
    assert res["failed"] == [] and len(res["points"]) == 2
    assert all(p["worker"].startswith("tcp://") for p in res["points"])
    for p, want in zip(res["points"], spec.points()):
        assert p["name"] == want["name"] and p["error"] is None
        assert p["logic_cells"] > 0 and p["ffs"] > 0 and p["dsps"] > 0 and p["fits"]
        assert p["yosys_seconds"] > 0 and p["synth_dir"].startswith(str(tmp_path))
        assert 0.0 <= p["accuracy"] <= 1.0
        cycles, acc = _direct(parse_config(want["config"]), 1)
        assert p["cycles_per_sample"] == pytest.approx(cycles, rel=1e-12)
        assert p["accuracy"] == acc
        assert p["train_samples"] == 1438 and p["epochs"] == 1
    one, two = res["points"]
    assert two["cycles_per_sample"] < one["cycles_per_sample"]  # more lanes, fewer cycles
    assert res["pareto"] == [p["name"] for p in res["points"] if p["pareto"]]
    assert len(res["pareto"]) >= 1
    json.dumps(res)  # plain data
    text = format_table(res)
    assert one["name"] in text and "Pareto front" in text
    assert any(l.startswith("[2/2]") for l in lines)
    png = tmp_path / "dse.png"
    plot_pareto(res, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_a_failing_point_is_recorded_not_raised(tmp_path):
    """A point whose synthesis fails (here: its build folder is a file) is recorded with its
    error; the sweep completes and says so."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    spec = SweepSpec(lanes=(4,), width=("w16.12/v16.10",), timesteps=(2,),
                     schedule=("serial",), epochs=1, build_dir=str(blocker))
    lines = []
    res = run_sweep(spec, workers=1, progress=False, log=lines.append)
    (p,) = res["points"]
    assert res["failed"] == [p["name"]] and res["pareto"] == [] and not p["pareto"]
    assert p["error"].startswith(("FileExistsError", "NotADirectoryError"))
    assert any("1 of 1 points failed" in l for l in lines)
    assert "failed" in format_table(res)
    plot_pareto(res, tmp_path / "empty.png")  # nothing to plot: still a figure
