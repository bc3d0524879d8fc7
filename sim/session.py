"""A digits learning session on a core, checked sample by sample against the golden model.

One sans-IO flow (rtl_gen/driver.py style: it yields host commands and receives their
results), so the same session runs in a cocotb testbench (:func:`rtl_gen.driver.adrive`,
sim/tests/train_tb.py) and on a board over its serial port (:func:`rtl_gen.driver.drive` with
:func:`rtl_gen.serial_host.open_host`, ``snngen board``).
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from golden.data import load_dataset
from golden.fixed_model import FixedArith
from golden.learner import init_params, prediction
from golden.train import TEST_STREAM, encode_split, epoch_samples
from rtl_gen import driver
from rtl_gen.driver import Flow
from rtl_gen.protocol import Host

from .scoreboard import TrainScoreboard

__all__ = ["digits_session"]


def digits_session(cfg, *, epochs: int = 1, samples: int = 0, readback_every: int = 1,
                   n_test: int = 0, log: Callable[[str], None] | None = None) -> Flow:
    """Load the initial parameters, train online on the config's data set (the first
    ``samples`` of ``epochs`` epochs, all when 0), every sample's cycle counters, readouts and
    event counts checked (and every parameter after each ``readback_every``-th and the last
    sample), then infer ``n_test`` test samples (-1: all) and compare the predictions.

    Raises :class:`sim.scoreboard.Mismatch` at the first difference; returns a report dict.
    """
    data = load_dataset(cfg)
    params = FixedArith(cfg).from_real(init_params(cfg))
    yield from driver.load(cfg, params)
    board = TrainScoreboard(cfg, params)
    t0 = time.perf_counter()
    trained = correct = 0
    cycles: list[int] = []
    for _, frames, labels, shifts in epoch_samples(cfg, data, epochs):
        yield Host().set_lr(*shifts)
        board.shifts = shifts
        n = len(labels) if not samples else min(samples - trained, len(labels))
        for i in range(n):
            label = int(labels[i])
            readback = (trained + 1) % readback_every == 0 or i == n - 1
            res = yield from driver.run_sample(cfg, frames[i], label, readback=readback)
            board.check(board.expect(frames[i], label), res, None)
            cycles.append(res.cycles)
            correct += int(res.readout.sum(0).argmax()) == label
            trained += 1
            if log and trained % 100 == 0:
                log(f"{trained} samples trained bit-exact, online accuracy "
                    f"{correct / trained:.3f}")
        if samples and trained >= samples:
            break
    train_s = time.perf_counter() - t0
    n_test = len(data.test_y) if n_test < 0 else n_test
    test_frames = encode_split(cfg, data.test_x[:n_test], TEST_STREAM)
    pred, infer_cycles = [], []
    for x in test_frames:
        res = yield from driver.run_sample(cfg, x, None, readback=False)
        board.check(board.expect(x, None), res, None)
        pred.append(int(res.readout.sum(0).argmax()))
        infer_cycles.append(res.cycles)
    golden = prediction(board.learner.infer(test_frames).out).tolist() if n_test else []
    assert pred == golden, "core and golden predictions differ"
    y = data.test_y[:n_test]
    return {
        "trained": trained, "online_accuracy": correct / max(trained, 1),
        "test_samples": n_test,
        "test_accuracy": float(np.mean(np.array(pred) == y)) if n_test else None,
        "golden_test_accuracy": float(np.mean(np.array(golden) == y)) if n_test else None,
        "cycles_per_sample": float(np.mean(cycles)) if cycles else 0.0,
        "infer_cycles_per_sample": float(np.mean(infer_cycles)) if infer_cycles else 0.0,
        "train_seconds": train_s, "schedule": cfg.hardware.schedule,
    }
