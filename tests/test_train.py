"""Train smoke test on the tiny config: both models learn, the CLI writes JSON and a plot."""

import json
import subprocess
import sys

import pytest

from golden.train import train
from rtl_gen.config import load_config


@pytest.mark.parametrize("model", ["fixed", "float"])
def test_tiny_learns_above_chance(model):
    cfg = load_config("tiny")
    res, learner = train(cfg, model, epochs=1, progress=False, log=lambda *_: None)
    assert res.test_accuracy > 0.5  # 10 classes: chance is 0.1
    assert 0 < res.spike_rate["lif1"] < 1 and 0.2 < res.spike_rate["input"] < 0.4
    assert len(res.test_accuracy_per_epoch) == 1 and res.train_samples_per_s > 0


def test_train_is_deterministic():
    cfg = load_config("tiny")
    a, la = train(cfg, "fixed", epochs=1, progress=False, log=lambda *_: None)
    b, lb = train(cfg, "fixed", epochs=1, progress=False, log=lambda *_: None)
    assert a.test_accuracy_per_epoch == b.test_accuracy_per_epoch
    assert la.params.equal(lb.params)


def test_cli_train_writes_json_and_plot(tmp_path):
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "rtl_gen.cli", "train", "tiny", "--model", "fixed",
                        "--epochs", "2", "--json", str(out / "r.json"), "--plot",
                        str(out / "r.png"), "--no-progress"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "epoch   2/2" in r.stdout and "spike rate" in r.stdout
    res = json.loads((out / "r.json").read_text())
    for key in ("model", "epochs", "test_accuracy", "train_accuracy", "test_accuracy_per_epoch",
                "spike_rate", "seconds"):
        assert key in res
    assert res["model"] == "fixed" and res["epochs"] == 2
    assert 0 <= res["test_accuracy"] <= 1 and len(res["test_accuracy_per_epoch"]) == 2
    assert set(res["spike_rate"]) == {"input", "lif1"}
    assert (out / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
