"""snngen generate: Verilog and manifest, clean under Verilator -Wall and yosys check."""

import json
import subprocess
import sys

import pytest

from rtl_gen.config import load_config
from rtl_gen.generate import LINT_WAIVERS, TOP, check_yosys, generate, lint_verilator


@pytest.fixture(scope="module")
def tiny_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    man = generate(load_config("tiny"), out)
    return out, man


def test_generate_writes_verilog_and_manifest(tiny_out):
    out, man = tiny_out
    text = (out / f"{TOP}.v").read_text()
    assert f"module {TOP}(" in text
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(man))
    names = {p["name"]: p for p in man["ports"]}
    assert names["i__payload"] == {"name": "i__payload", "direction": "in", "width": 32}
    assert names["o__valid"]["direction"] == "out"
    assert man["memory_map"]["groups"] == [4, 3]  # 16 and 10 neurons on 4 lanes
    assert man["commands"]["TRAIN"] == 0x11 and man["config"]["name"] == "tiny"
    assert man["errors"]["BAD_ADDRESS"] == 4 and man["memories"]["WEIGHTS"]["depth"] == 2048
    from rtl_gen.isa import Program

    prog = Program.decode(man["program"])  # the compiled default program round-trips
    assert prog.timesteps == 4 and [li.n_out for li in prog.layers] == [16, 10]


def test_verilator_lint_clean_with_named_waivers(tiny_out):
    out, _ = tiny_out
    lint_verilator(out / f"{TOP}.v")
    assert all(len(reason) > 40 for reason in LINT_WAIVERS.values())  # each one justified


def test_lint_catches_a_real_problem(tmp_path):
    bad = tmp_path / "latch.v"
    bad.write_text("module latch(input a, input b, output reg q);\n"
                   "always @(*) if (a) q = b;\nendmodule\n")
    with pytest.raises(RuntimeError, match="LATCH"):
        lint_verilator(bad, top="latch")


def test_yosys_check_clean(tiny_out):
    out, _ = tiny_out
    check_yosys(out / f"{TOP}.v")


def _snngen(*args, cwd):
    return subprocess.run([sys.executable, "-m", "rtl_gen.cli", *args], cwd=cwd,
                          capture_output=True, text=True)


@pytest.mark.parametrize("toml, field", [
    ('name = "c"\n[hardware]\nlanes = 0\n', "hardware.lanes = 0"),
    ('name = "c"\n[network]\nloss = "ce"\n', "network.loss = 'ce'"),
])
def test_generate_rejects_bad_config_and_writes_nothing(tmp_path, toml, field):
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml)
    r = _snngen("generate", str(cfg), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 2 and field in r.stderr
    assert not (tmp_path / "out").exists()
