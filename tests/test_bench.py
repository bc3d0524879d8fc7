"""``snngen bench``: running the benchmark scripts and the headline summary of their JSON."""

import json
import subprocess
import sys

import pytest

from rtl_gen.bench import BENCH_DIR, BENCHES, DEFAULT_BENCHES, BenchError, BenchOptions
from rtl_gen.bench import run_benches, summary


def _snngen(*args):
    return subprocess.run([sys.executable, "-m", "rtl_gen.cli", "bench", *args],
                          capture_output=True, text=True)


def test_every_benchmark_has_its_script():
    for name, b in BENCHES.items():
        assert (BENCH_DIR / b.script).exists(), name
        assert all(isinstance(a, str) for a in b.args(BenchOptions(quick=True, scheduler="x")))
    assert set(DEFAULT_BENCHES) <= set(BENCHES)


def test_unknown_benchmark_is_refused():
    with pytest.raises(BenchError, match="unknown benchmark 'nope'"):
        run_benches(["nope"], BenchOptions())


def _write(d, name, data):
    (d / f"{name}.json").write_text(json.dumps(data))


def test_summary_reads_every_result(tmp_path):
    _write(tmp_path, "schedule", [{"config": "tiny", "cycles_per_sample":
                                   {"serial": 900.0, "dual": 750.0, "dense": 1800.0},
                                   "dual_reduction": 1 / 6, "sparsity_speedup": 2.0}])
    _write(tmp_path, "forward_cycles", {"config": "tiny", "cycles_per_sample": 400.0,
                                        "event_bound_per_sample": 300.0})
    _write(tmp_path, "synth", [
        {"config": "tiny", "target": "ecp5-85k", "fits": True, "fmax_mhz": 30.0,
         "logic_cells": 1000, "samples_per_s": 40000.0, "cpu_samples_per_s": 2000.0,
         "speedup": 20.0, "clock_mhz": 50.0, "speedup_at_clock": 33.3},
        {"config": "up5k", "target": "ice40-up5k", "fits": False, "fmax_mhz": None,
         "logic_cells": 9000, "samples_per_s": None, "cpu_samples_per_s": 1000.0,
         "speedup": None, "clock_mhz": 40.0, "speedup_at_clock": 2.5}])
    _write(tmp_path, "golden_speed", {"config": "tiny", "fixed_samples_per_s": 1500.0,
                                      "float_samples_per_s": 2500.0})
    lines, figs = summary(tmp_path, "tiny")
    text = "\n".join(lines)
    assert "tiny          900     750    1800       16.7%        2.00x" in text
    assert "400 cycles vs event bound 300: efficiency 75.0 %" in text
    assert "Fmax 30.0 MHz, 1000 logic cells, 40,000 training samples/s vs CPU 2,000/s = 20.0x" \
        in text
    assert "up5k on ice40-up5k: does not fit (9000 logic cells); at 40 MHz it would be 2.5x" \
        in text
    assert "fixed 1,500, float 2,500 training samples/s" in text
    # What has not been run is named with the command that runs it.
    assert "sim_speed: no results (snngen bench sim_speed)" in text
    assert "energy: no results (snngen bench energy)" in text
    assert figs["event_efficiency"]["efficiency"] == 0.75
    assert figs["schedule"]["tiny"]["dual"] == 750.0
    assert [s["speedup"] for s in figs["synth"]] == [20.0, None]


def test_bench_runs_a_benchmark_into_the_chosen_folder(tmp_path):
    res = tmp_path / "results"
    out = tmp_path / "figures.json"
    r = _snngen("schedule", "--configs", "tiny", "--config", "tiny", "--results", str(res),
                "--json", str(out))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rows = json.loads((res / "schedule.json").read_text())
    assert [row["config"] for row in rows] == ["tiny"]
    c = rows[0]["cycles_per_sample"]
    assert c["dual"] < c["serial"] < c["dense"]
    figs = json.loads(out.read_text())
    assert figs["schedule"]["tiny"]["serial"] == c["serial"]
    assert figs["bench_seconds"]["schedule"] > 0
    assert "=== headline figures" in r.stdout and "forward_cycles: no results" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["nope"], "benchmark 'nope': allowed golden_speed"),
    (["--configs", "tiny,bogus", "--summary"], "bogus.toml"),
    (["--synth-run", "tiny:xx", "--summary"],
     "--synth-run = 'tiny:xx': allowed CONFIG:TARGET[:SEEDS]"),
    (["--synth-run", "tiny:ecp5-85k:0", "--summary"], "SEEDS 1 to 100"),
])
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "figures.json"
    r = _snngen(*args, "--results", str(tmp_path / "results"), "--json", str(out))
    assert r.returncode == 2 and message in r.stderr
    assert not out.exists() and not (tmp_path / "results").exists()
