"""Cycles per training sample under the serial, dual and dense schedules, on real digits.

For each config the fixed model learns the digits training set online (the stream
golden/train.py and the core learn from, sample by sample); every sample's spike and error
counts go through the timing model (golden/timing.py; the RTL's cycle counters equal it, see
tests/test_rtl_engine.py and tests/test_rtl_cocotb.py) under each schedule. Prints per config the cycles of each engine and
of each schedule, the dual-parallel reduction ``1 - dual / serial`` and the sparsity speed-up
``dense / serial``; writes bench/results/schedule.json.

    python bench/schedule.py [CONFIG ...] [--epoch 1]
"""

from __future__ import annotations

import argparse

import numpy as np

from golden import fixed_learner
from golden.data import load_dataset
from golden.timing import SCHEDULES, sample_counts, train_timing
from golden.train import epoch_samples, layer_names
from rtl_gen.config import load_config
from rtl_gen.memory_map import MemoryMap
from _results import write_results  # bench/_results.py (scripts run from bench/)



def measure(cfg, epochs: int) -> dict:
    """Counts of epoch ``epochs`` of the exact stream the trainers learn from (earlier epochs
    train the network there)."""
    data = load_dataset(cfg)
    learner = fixed_learner(cfg)
    mm = MemoryMap.of(cfg)
    for _, frames, labels, shifts in epoch_samples(cfg, data, epochs):
        totals = {s: np.zeros(4) for s in SCHEDULES}
        events = np.zeros(mm.n_weight_layers)
        for i in range(len(labels)):
            tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
            c = sample_counts(mm, frames[i], tr, g)
            events += c.events.sum(1)
            for s in SCHEDULES:
                rt = train_timing(mm, c, s)
                totals[s] += (rt.cycles, rt.forward, rt.backward, rt.update)
    n = len(labels)
    cyc = {s: totals[s][0] / n for s in SCHEDULES}
    fwd, bwd, upd = (totals["serial"][k] / n for k in (1, 2, 3))
    rates = {name: float(events[l] / (n * cfg.timesteps * mm.fan_in(l)))
             for l, name in enumerate(layer_names(cfg))}
    return {"config": cfg.name, "layers": list(cfg.network.layers), "timesteps": cfg.timesteps,
            "lanes": cfg.hardware.lanes, "epoch": epochs, "samples": n,
            "cycles_per_sample": cyc, "fwd_cycles": fwd, "bwd_cycles": bwd, "upd_cycles": upd,
            "dense_engine_cycles": {"fwd": totals["dense"][1] / n, "bwd": totals["dense"][2] / n,
                                    "upd": totals["dense"][3] / n},
            "dual_reduction": 1 - cyc["dual"] / cyc["serial"],
            "dual_ceiling": min(fwd, bwd) / (fwd + bwd + upd),
            "sparsity_speedup": cyc["dense"] / cyc["serial"], "spike_rate": rates}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", default=["tiny", "default", "up5k", "ecp5"])
    ap.add_argument("--epoch", type=int, default=1, help="measure during this epoch")
    args = ap.parse_args()
    out = []
    print(f"{'config':<9}{'serial':>9}{'dual':>9}{'dense':>9}{'fwd':>8}{'bwd':>8}{'upd':>8}"
          f"{'dual red.':>11}{'ceiling':>9}{'dense/ser':>11}  spike rates")
    for name in args.configs:
        r = measure(load_config(name), args.epoch)
        out.append(r)
        c = r["cycles_per_sample"]
        rates = " ".join(f"{k} {v:.3f}" for k, v in r["spike_rate"].items())
        print(f"{name:<9}{c['serial']:>9.0f}{c['dual']:>9.0f}{c['dense']:>9.0f}"
              f"{r['fwd_cycles']:>8.0f}{r['bwd_cycles']:>8.0f}{r['upd_cycles']:>8.0f}"
              f"{100 * r['dual_reduction']:>10.1f}%{100 * r['dual_ceiling']:>8.1f}%"
              f"{r['sparsity_speedup']:>10.2f}x  {rates}", flush=True)
    write_results("schedule", out)


if __name__ == "__main__":
    main()
