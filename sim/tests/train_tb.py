"""cocotb test: the core learns digits online through its host stream, next to the golden
model (run by ``snngen train --model rtl`` and the slow tier); the session itself is
sim/session.py, which also runs on boards (``snngen board``)."""

from __future__ import annotations

import time

import cocotb
import torch
from cocotb.utils import get_sim_time

from rtl_gen.config import parse_config
from rtl_gen.driver import adrive
from sim.runner import tb_args, tb_report
from sim.session import digits_session
from sim.tb import CLOCK_NS, TB


@cocotb.test()
async def train_digits(dut):
    """Train the first ``samples`` of ``epochs`` epochs (all when 0), every sample checked
    bit- and cycle-exact (parameters read back every ``readback_every`` samples), then infer
    ``test`` test samples through the core."""
    torch.set_num_threads(1)  # batch-1 golden work beside the simulator
    a = tb_args()
    cfg = parse_config(a["config"])
    tb = TB(dut, cfg, observe=False, seed=a.get("seed", 0))
    await tb.start()
    t0, c0 = time.perf_counter(), get_sim_time("ns")
    rep = await adrive(digits_session(cfg, epochs=a.get("epochs", 1),
                                      samples=a.get("samples", 0),
                                      readback_every=a.get("readback_every", 1),
                                      n_test=a.get("test", 0), log=dut._log.info),
                       tb.execute)
    tb_report(**rep, sim_cycles=int(get_sim_time("ns") - c0) // CLOCK_NS,
              seconds=time.perf_counter() - t0)
