"""Digits learned through the generated core (Verilator) next to the golden model:
``snngen train --model rtl``."""

import json
import subprocess
import sys

import pytest


def _train_rtl(tmp_path, config, *args):
    out = tmp_path / "rtl.json"
    r = subprocess.run([sys.executable, "-m", "rtl_gen.cli", "train", config, "--model", "rtl",
                        "--json", str(out), *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout, json.loads(out.read_text())


def test_a_few_digits_through_the_core(tmp_path):
    out, rep = _train_rtl(tmp_path, "tiny", "--samples", "4", "--test", "4")
    assert "PASS: 4 samples trained bit- and cycle-exact" in out
    assert rep["trained"] == 4 and rep["test_samples"] == 4
    assert rep["test_accuracy"] == rep["golden_test_accuracy"]


@pytest.mark.slow
def test_one_epoch_of_digits_through_the_core(tmp_path):
    """The whole first epoch (1,438 samples) on the default core, every parameter read back
    and compared after every sample; then the whole test set inferred through the core: the
    same test accuracy as the golden trainer (golden/train.py) after one epoch."""
    from golden.data import load_dataset
    from golden.train import train
    from rtl_gen.config import load_config

    out, rep = _train_rtl(tmp_path, "default", "--epochs", "1", "--test", "-1")
    print(out)
    cfg = load_config("default")
    data = load_dataset(cfg)
    assert rep["trained"] == len(data.train_y) and rep["test_samples"] == len(data.test_y)
    golden, _ = train(cfg, "fixed", 1, progress=False, log=lambda *_: None, data=data)
    assert rep["test_accuracy"] == rep["golden_test_accuracy"] == golden.test_accuracy
