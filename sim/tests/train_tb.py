"""cocotb test: the core learns digits online through its host stream, next to the golden
model (run by ``snngen train --model rtl`` and the slow tier)."""

from __future__ import annotations

import time

import cocotb
import numpy as np
import torch
from cocotb.utils import get_sim_time

from golden.data import load_dataset
from golden.fixed_model import FixedArith
from golden.learner import init_params, prediction
from golden.train import TEST_STREAM, encode_split, epoch_samples
from rtl_gen.config import parse_config
from rtl_gen.protocol import Host
from sim.runner import tb_args, tb_report
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
    data = load_dataset(cfg)
    params = FixedArith(cfg).from_real(init_params(cfg))
    board = await tb.load(params)
    limit, every = a.get("samples", 0), a.get("readback_every", 1)
    t0, c0 = time.perf_counter(), get_sim_time("ns")
    trained = correct = 0
    cycles = []
    for epoch, frames, labels, shifts in epoch_samples(cfg, data, a.get("epochs", 1)):
        await tb.execute(Host().set_lr(*shifts))
        board.shifts = shifts
        n = len(labels) if not limit else min(limit - trained, len(labels))
        for i in range(n):
            readback = (trained + 1) % every == 0 or i == n - 1
            res = await tb.run_sample(frames[i], int(labels[i]), readback=readback)
            cycles.append(res.cycles)
            correct += int(res.readout.sum(0).argmax()) == labels[i]
            trained += 1
            if trained % 100 == 0:
                dut._log.info(f"{trained} samples trained bit-exact, online accuracy "
                              f"{correct / trained:.3f}")
        if limit and trained >= limit:
            break
    train_s = time.perf_counter() - t0
    sim_cycles = int(get_sim_time("ns") - c0) // CLOCK_NS
    n_test = a.get("test", 0)
    n_test = len(data.test_y) if n_test < 0 else n_test
    test_frames = encode_split(cfg, data.test_x[:n_test], TEST_STREAM)
    rtl_pred, infer_cycles = [], []
    for x in test_frames:
        res = await tb.run_sample(x, None)
        rtl_pred.append(int(res.readout.sum(0).argmax()))
        infer_cycles.append(res.cycles)
    golden_pred = (prediction(board.learner.infer(test_frames).out).tolist()
                   if n_test else [])
    assert rtl_pred == golden_pred, "RTL and golden predictions differ"
    y = data.test_y[:n_test]
    tb_report(trained=trained, online_accuracy=correct / max(trained, 1),
              test_samples=n_test,
              test_accuracy=float(np.mean(np.array(rtl_pred) == y)) if n_test else None,
              golden_test_accuracy=float(np.mean(np.array(golden_pred) == y)) if n_test else None,
              cycles_per_sample=float(np.mean(cycles)) if cycles else 0.0,
              infer_cycles_per_sample=float(np.mean(infer_cycles)) if infer_cycles else 0.0,
              train_seconds=train_s, sim_cycles=sim_cycles, seconds=time.perf_counter() - t0,
              schedule=cfg.hardware.schedule)
