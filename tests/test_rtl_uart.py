"""The serial core (rtl_gen/serial_core.py) under Verilator and cocotb: the host driver's
load / train / infer flows over the UART bridge, with cocotbext-uart as the host's port,
bit- and cycle-exact against the golden models (sim/tests/uart_tb.py)."""

from rtl_gen.config import load_config
from rtl_gen.generate import check_yosys, lint_verilator
from rtl_gen.serial_core import SERIAL_TOP, serial_verilog_text
from sim.uart_link import run_serial

DIVISOR = 8  # 8 cycles per bit: 12.5 Mbaud at the testbench's 100 MHz clock


def test_flows_over_the_serial_link():
    cfg = load_config("tiny")
    r = run_serial(cfg, DIVISOR, seed=3, check=False, timeout=600)
    assert r.passed, r.summary()
    rep = r.report
    assert rep["samples"] == 3 and rep["trained"] == 2
    # every byte crossed the line: the core saw well over a megabit of traffic
    assert rep["bytes_sent"] > 4000 and rep["bytes_received"] > 10000


def test_serial_verilog_is_lint_clean(tmp_path):
    """``verilator --lint-only -Wall`` (the generator's named waivers) and yosys
    ``check -assert`` on the serial core's Verilog."""
    path = tmp_path / f"{SERIAL_TOP}.v"
    path.write_text(serial_verilog_text(load_config("tiny"), DIVISOR))
    lint_verilator(path, top=SERIAL_TOP)
    check_yosys(path, top=SERIAL_TOP)
