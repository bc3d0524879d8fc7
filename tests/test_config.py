"""Config schema: presets load; every class of error names field, value and allowed range;
the CLI exits with code 2 and writes nothing."""

import json
import subprocess
import sys

import pytest

from rtl_gen.config import PRESETS, Config, ConfigError, load_config, parse_config


def _cfg(**sections):
    data = {"name": "t"}
    data.update(sections)
    return data


def _problem(data) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    return str(exc.value)


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_and_are_frozen(name):
    cfg = load_config(name)
    assert isinstance(cfg, Config) and cfg.name == name
    assert cfg.n_in == 64 and cfg.n_out == 10
    with pytest.raises(Exception):
        cfg.seed = 5  # frozen
    assert cfg.replace(network={"timesteps": 2}).timesteps == 2
    assert cfg.hash() == load_config(name).hash()


def test_defaults_fill_an_empty_file():
    cfg = parse_config({"name": "x"})
    assert cfg.network.layers == (64, 128, 10) and cfg.hidden == (128,)


@pytest.mark.parametrize(
    "data, field, value, allowed",
    [
        # unknown fields, at the top and inside a section
        (_cfg(colour="red"), "colour", "'red'", "no such field"),
        (_cfg(network={"lif": 3}), "network.lif", "3", "known fields here: layers"),
        # wrong types: string for int, float for int, int for bool, scalar for list
        (_cfg(network={"timesteps": "8"}), "network.timesteps", "'8'", "an integer in [1, 64]"),
        (_cfg(network={"timesteps": 8.0}), "network.timesteps", "8.0", "an integer in [1, 64]"),
        (_cfg(network={"learn_threshold": 1}), "network.learn_threshold", "1", "true or false"),
        (_cfg(network={"layers": 64}), "network.layers", "64", "a list of 3 to 8 sizes"),
        # out of range
        (_cfg(network={"timesteps": 0}), "network.timesteps", "0", "an integer in [1, 64]"),
        (_cfg(fixed={"w_bits": 40}), "fixed.w_bits", "40", "an integer in [4, 24]"),
        (_cfg(network={"layers": [64, 0, 10]}), "network.layers.1", "0", "sizes in [1, 4096]"),
        (_cfg(network={"layers": [64, 10]}), "network.layers", "[64, 10]", "3 to 8 sizes"),
        (_cfg(data={"test_fraction": 0.9}), "data.test_fraction", "0.9", "[0.05, 0.5]"),
        # not one of the choices
        (_cfg(network={"reset": "zero"}), "network.reset", "'zero'", "one of 'soft', 'hard'"),
        (_cfg(hardware={"target": "xc7"}), "hardware.target", "'xc7'", "'ice40-up5k'"),
        # missing required field
        ({}, "name", None, "1 to 64 of"),
        # values that are not shifts
        (_cfg(network={"leak": 0.6}), "network.leak", "0.6", "2**-a or 1 - 2**-a"),
        (_cfg(network={"surrogate_width": 3.0}), "network.surrogate_width", "3.0", "power of two"),
        # cross-field: formats, learning rate, memories
        (_cfg(fixed={"w_bits": 8, "w_frac": 8}), "fixed.w_frac", "8", "less than fixed.w_bits"),
        (_cfg(fixed={"v_frac": 13}), "fixed.v_frac", "13", "at most fixed.w_frac"),
        (_cfg(train={"lr_shift": 1}), "train.lr_shift", "1", "[2, 24]"),
        (_cfg(train={"lr_decay_epochs": [5, 3]}), "train.lr_decay_epochs", "[5, 3]",
         "strictly increasing"),
        (_cfg(network={"threshold_init": 4.0}, fixed={"v_bits": 12}), "network.threshold_init",
         "4.0", "below 2.0"),
        (_cfg(hardware={"weight_words": 1000}), "hardware.weight_words", "1000",
         "at least 10240 (1280 rows of 8 lanes"),
        (_cfg(hardware={"neuron_words": 100}), "hardware.neuron_words", "100", "at least 144"),
        (_cfg(network={"timesteps": 32}), "network.timesteps", "32", "hardware.max_timesteps"),
    ],
)
def test_error_names_field_value_and_allowed(data, field, value, allowed):
    msg = _problem(data)
    head = f"{field} = {value}" if value is not None else f"{field} (missing)"
    line = next(l for l in msg.splitlines() if l.strip().startswith(head))
    assert allowed in line, msg


def test_all_problems_reported_at_once():
    msg = _problem(_cfg(network={"timesteps": 0, "reset": "x"}))
    assert "network.timesteps" in msg and "network.reset" in msg


def test_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ConfigError, match=r"\(syntax\).*valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"\(file\).*readable TOML"):
        load_config(tmp_path / "missing.toml")


def _snngen(*args, cwd):
    return subprocess.run([sys.executable, "-m", "rtl_gen.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_cli_rejects_bad_config_with_exit_2_and_writes_nothing(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('name = "c"\n[network]\ntimesteps = 99\n')
    out = tmp_path / "out"
    r = _snngen("train", str(cfg), "--json", str(out / "r.json"), "--plot", str(out / "p.png"),
                cwd=tmp_path)
    assert r.returncode == 2
    assert "network.timesteps = 99" in r.stderr and "[1, 64]" in r.stderr
    assert not out.exists()


def test_cli_rejects_float_only_loss_for_fixed_model(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('name = "c"\n[network]\nloss = "ce"\n')
    r = _snngen("train", str(cfg), "--model", "fixed", "--json", str(tmp_path / "r.json"),
                cwd=tmp_path)
    assert r.returncode == 2 and "network.loss = 'ce'" in r.stderr
    assert not (tmp_path / "r.json").exists()


def test_cli_bad_argument_exit_2(tmp_path):
    r = _snngen("train", "tiny", "--epochs", "0", cwd=tmp_path)
    assert r.returncode == 2 and "--epochs" in r.stderr


def test_cli_config_prints_resolved_config(tmp_path):
    r = _snngen("config", "tiny", cwd=tmp_path)
    assert r.returncode == 0
    assert json.loads(r.stdout)["network"]["layers"] == [64, 16, 10]
