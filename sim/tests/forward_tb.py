"""cocotb tests of the core's forward pass (run by sim/regress.py and tests/)."""

from __future__ import annotations

import time

import cocotb
from cocotb.utils import get_sim_time

from rtl_gen.config import parse_config
from sim.cases import make_frames, make_params
from sim.runner import tb_args, tb_report
from sim.tb import CLOCK_NS, TB


@cocotb.test()
async def forward_passes(dut):
    """Every (params, frames) case of the arguments: every value bit-exact, every record and
    the cycle counter cycle-exact, with the configured idle and back-pressure."""
    a = tb_args()
    cfg = parse_config(a["config"])
    tb = TB(dut, cfg, idle=a.get("idle", 0.0), backpressure=a.get("backpressure", 0.0),
            observe=a.get("observe", True), seed=a.get("seed", 0))
    await tb.start()
    samples = 0
    wall = 0.0
    sim_cycles = 0
    for case in a["cases"]:
        await tb.load_params(make_params(cfg, case["seed"], case["params"]))
        frames = make_frames(cfg, case["seed"], case["frames"], case.get("samples", 1))
        t0, c0 = time.perf_counter(), get_sim_time("ns")
        await tb.run_samples(frames)
        samples += len(frames)
        wall += time.perf_counter() - t0
        sim_cycles += int(get_sim_time("ns") - c0) // CLOCK_NS
    assert samples > 0, "no sample was run"
    tb_report(samples=samples, forward_cycles=tb.cycles_run, records=tb.records,
              run_seconds=wall, sim_cycles=sim_cycles)
