"""The core under Verilator and cocotb, driven over its host stream: training and inference
bit- and cycle-exact against the golden models, across configs and schedules, with idle
cycles and back-pressure; the protocol fuzzer against the whole core."""

import pytest

from rtl_gen.config import load_config
from sim.regress import default_cases, run_core


def _cfg(lanes, layers, T, reset="soft", leak=0.5, centering=True, w_bits=16, v_bits=16,
         v_frac=10, w_frac=12, schedule="dual", loss="hinge"):
    return load_config("tiny").replace(
        network={"layers": layers, "timesteps": T, "reset": reset, "leak": leak,
                 "weight_centering": centering, "loss": loss},
        fixed={"w_bits": w_bits, "w_frac": w_frac, "v_bits": v_bits, "v_frac": v_frac},
        hardware={"lanes": lanes, "weight_words": 65536, "neuron_words": 4096,
                  "max_timesteps": 16, "max_width": 128, "max_layers": 3,
                  "schedule": schedule})


def _id(c):
    return f"{c.hardware.lanes}lanes-{c.hardware.schedule}-" + "-".join(map(str, c.network.layers))


# default tier: a few builds (each about half a minute), every input kind
FAST = [
    # lanes do not divide the layer sizes; two LIF layers; hard reset; narrow formats; MSE
    _cfg(3, [64, 20, 10], 4),
    _cfg(5, [30, 17, 9, 6], 3, reset="hard", leak=0.75, centering=False, w_bits=10, w_frac=7,
         v_bits=12, v_frac=6, schedule="serial", loss="mse"),
]


@pytest.mark.parametrize("cfg", FAST, ids=_id)
def test_training_exact_with_idle_and_backpressure(cfg):
    r = run_core(cfg, default_cases(cfg, seed=7, samples=2), seed=7, idle=0.2, backpressure=0.3)
    assert r.passed, r.message
    assert r.samples == 2 + 2 + 4 and r.trained == 7 and r.records > 0 and r.run_cycles > 0


# slow tier: a sweep over lanes 1..16, schedules and the other axes
SWEEP = [
    _cfg(lanes, layers, T, reset, leak, centering, schedule=schedule)
    for lanes, layers, T, reset, leak, centering, schedule in [
        (1, [64, 12, 10], 2, "soft", 0.5, True, "dual"),       # one lane
        (2, [64, 33, 10], 3, "hard", 0.25, True, "serial"),    # odd layer size
        (4, [64, 128, 10], 8, "soft", 0.5, True, "dense"),     # the default network
        (7, [64, 50, 10], 4, "soft", 0.875, False, "dual"),
        (8, [64, 128, 10], 8, "soft", 0.5, True, "dual"),      # the default core
        (16, [64, 100, 30, 10], 5, "hard", 1.0, True, "serial"),  # 16 lanes, two LIF layers
    ]
]


@pytest.mark.slow
@pytest.mark.parametrize("cfg", SWEEP, ids=_id)
def test_training_sweep(cfg):
    for seed in (1, 2):
        r = run_core(cfg, default_cases(cfg, seed=seed, samples=3), seed=seed, idle=0.1,
                     backpressure=0.2)
        assert r.passed, r.message


def test_checker_catches_a_wrong_design():
    """The harness fails when the RTL differs from golden: build a core whose leak differs
    from the config the scoreboard uses."""
    good = FAST[0]
    bad_rtl = good.replace(network={"leak": 0.75})
    from sim import regress

    sim = regress.build_core(bad_rtl)
    r = run_core(good, default_cases(good, seed=3, samples=1)[:1], seed=3, sim=sim, check=False)
    assert not r.passed
    assert "golden fixed model says" in r.message or "timing model says" in r.message


def test_regress_cli_table_and_exit_codes(tmp_path):
    import json
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "rtl_gen.cli", "regress"]
    r = subprocess.run(cmd + ["tiny", "--seeds", "1", "--samples", "1", "--json",
                              str(tmp_path / "r.json")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "tiny         seed 1    PASS" in r.stdout and "1 passed, 0 failed" in r.stdout
    rows = json.loads((tmp_path / "r.json").read_text())
    assert rows[0]["passed"] and rows[0]["samples"] == 6
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "b"\n[hardware]\nlanes = 99\n')
    r = subprocess.run(cmd + ["tiny", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "hardware.lanes = 99" in r.stderr
    assert "PASS" not in r.stdout  # nothing ran: every config is validated first
