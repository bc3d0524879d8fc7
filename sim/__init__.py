"""Simulation: cocotb testbenches, drivers and scoreboards, and the Verilator runner.

See :mod:`sim.runner` for building Verilog with Verilator and running cocotb
tests from pytest (parameters reach the testbench as JSON in ``SNNGEN_TB_ARGS``).
"""

from .runner import (
    BuildFailed,
    SimBuild,
    SimResult,
    SimulationFailed,
    TestCaseResult,
    build,
    content_hash,
    run,
    sim_build_root,
    tb_args,
    tb_report,
    verilator_env,
    write_if_changed,
)

__all__ = [
    "BuildFailed",
    "SimBuild",
    "SimResult",
    "SimulationFailed",
    "TestCaseResult",
    "build",
    "content_hash",
    "run",
    "sim_build_root",
    "tb_args",
    "tb_report",
    "verilator_env",
    "write_if_changed",
]
