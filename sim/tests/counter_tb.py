"""cocotb testbench for the counter used by ``tests/test_sim_runner.py``.

Parameters arrive through :func:`sim.runner.tb_args` (``SNNGEN_TB_ARGS``):

``expected_cycles`` : int
    Clock cycles from the edge that samples ``en = 1`` to the edge where
    ``done`` rises, as computed by the Python reference.
``period_ns`` : int, optional
    Clock period (default 10).

The test starts cocotb's clock (driven from C, no Python per cycle), holds
``rst`` for two cycles, raises ``en`` and only awaits ``RisingEdge(dut.done)``,
so the simulation runs at Verilator's VPI speed.  It reports the measured
cycles and the simulation rate through :func:`sim.runner.tb_report`.
"""

import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import RisingEdge
from cocotb.utils import get_sim_time

from sim.runner import tb_args, tb_report


@cocotb.test()
async def count_to_done(dut):
    """The counter raises ``done`` exactly ``expected_cycles`` cycles after enable."""
    args = tb_args()
    expected = int(args["expected_cycles"])
    period = int(args.get("period_ns", 10))

    dut.en.value = 0
    dut.rst.value = 1
    cocotb.start_soon(Clock(dut.clk, period, unit="ns").start())
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    dut.en.value = 1  # sampled by the next rising edge
    t_enable = get_sim_time("ns")

    wall_start, cpu_start = time.perf_counter(), time.process_time()
    await RisingEdge(dut.done)
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start

    cycles = round((get_sim_time("ns") - t_enable) / period)
    tb_report(
        cycles=cycles,
        expected_cycles=expected,
        wall_seconds=wall,
        cpu_seconds=cpu,
        cycles_per_second=cycles / wall if wall > 0 else None,
        cycles_per_cpu_second=cycles / cpu if cpu > 0 else None,
    )
    assert cycles == expected, f"done after {cycles} cycles, expected {expected}"


@cocotb.test(skip=True)  # runs only when selected: run(..., testcase="hang")
async def hang(dut):
    """Never finishes (``en`` stays low): exercises the runner's wall-clock timeout."""
    dut.en.value = 0
    dut.rst.value = 1
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    await RisingEdge(dut.done)
