"""cocotb tests of the core (run by sim/regress.py and tests/): training and inference runs,
bit- and cycle-exact against the golden models, over the host protocol."""

from __future__ import annotations

import time

import cocotb
from cocotb.utils import get_sim_time

from rtl_gen.config import parse_config
from sim.cases import make_labels, make_frames, make_params
from sim.runner import tb_args, tb_report
from sim.tb import CLOCK_NS, TB


@cocotb.test()
async def core_runs(dut):
    """Every case of the arguments: parameters loaded, then its samples trained (or inferred)
    one by one, each checked against the golden models, with idle and back-pressure."""
    a = tb_args()
    cfg = parse_config(a["config"])
    tb = TB(dut, cfg, idle=a.get("idle", 0.0), backpressure=a.get("backpressure", 0.0),
            observe=a.get("observe", True), seed=a.get("seed", 0))
    await tb.start()
    samples = trained = 0
    wall = 0.0
    sim_cycles = 0
    for case in a["cases"]:
        await tb.load(make_params(cfg, case["seed"], case["params"]))
        n = case.get("samples", 1)
        frames = make_frames(cfg, case["seed"], case["frames"], n)
        labels = make_labels(cfg, case["seed"], case["frames"], n, case.get("mode", "train"))
        t0, c0 = time.perf_counter(), get_sim_time("ns")
        for x, y in zip(frames, labels):
            await tb.run_sample(x, y, readback=a.get("readback", True))
            samples += 1
            trained += y is not None
        wall += time.perf_counter() - t0
        sim_cycles += int(get_sim_time("ns") - c0) // CLOCK_NS
    assert samples > 0, "no sample was run"
    tb_report(samples=samples, trained=trained, run_cycles=tb.cycles_run, records=tb.n_records,
              run_seconds=wall, sim_cycles=sim_cycles)
