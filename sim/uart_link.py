"""The serial core (rtl_gen/serial_core.py) under Verilator: build (cached per config hash and
divisor) and cocotb runs of sim/tests/uart_tb.py."""

from __future__ import annotations

from pathlib import Path

from rtl_gen.serial_core import SERIAL_TOP, serial_verilog_text

from .regress import PUBLIC_TOP_ONLY
from .runner import REPO_ROOT, SimBuild, SimResult, build, run, sim_build_root, write_if_changed

__all__ = ["build_serial", "run_serial"]


def build_serial(cfg, divisor: int, waves: bool | None = None) -> SimBuild:
    """Generate ``SerialCore(cfg, divisor)``'s Verilog into
    ``sim_build/<config hash>-serial<divisor>/`` and build it (cached)."""
    d = sim_build_root() / f"{cfg.hash()}-serial{divisor}"
    src = write_if_changed(d / f"{SERIAL_TOP}.v", serial_verilog_text(cfg, divisor))
    vlt = write_if_changed(d / "public.vlt", PUBLIC_TOP_ONLY.format(top=SERIAL_TOP))
    return build([src], SERIAL_TOP, d / "verilator", waves=waves,
                 extra_args=["--no-public-flat-rw", str(vlt)])


def run_serial(cfg, divisor: int, *, seed: int = 0, sim: SimBuild | None = None,
               check: bool = True, timeout: float | None = None,
               test_module: str = "sim.tests.uart_tb", extra: dict | None = None) -> SimResult:
    """Run a cocotb test module (default ``sim/tests/uart_tb.py``) on the serial core; its
    arguments (``sim.runner.tb_args``) are ``config``, ``divisor``, ``seed`` and ``extra``."""
    sim = sim or build_serial(cfg, divisor)
    return run(sim, SERIAL_TOP, test_module, python_path=[REPO_ROOT],
               test_dir=Path(sim.build_dir) / f"run-{test_module.rsplit('.', 1)[-1]}-{seed}",
               tb_args={"config": cfg.as_dict(), "divisor": divisor, "seed": seed,
                        **(extra or {})},
               seed=seed, check=check, timeout=timeout)
