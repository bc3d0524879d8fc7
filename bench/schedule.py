"""Cycles per training sample under the serial, dual and dense schedules, on real digits.

For each config the fixed model learns the digits training set online (the stream
golden/train.py and the core learn from, sample by sample; golden/workload.py); every
sample's spike and error counts go through the timing model (golden/timing.py; the RTL's cycle counters equal it, see
tests/test_rtl_engine.py and tests/test_rtl_cocotb.py) under each schedule. Prints per config the cycles of each engine and
of each schedule, the dual-parallel reduction ``1 - dual / serial`` and the sparsity speed-up
``dense / serial``; writes bench/results/schedule.json.

    python bench/schedule.py [CONFIG ...] [--epoch 1]
"""

from __future__ import annotations

import argparse

from golden.workload import schedule_cycles
from rtl_gen.config import load_config
from _results import write_results  # bench/_results.py (scripts run from bench/)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", default=["tiny", "default", "up5k", "ecp5"])
    ap.add_argument("--epoch", type=int, default=1, help="measure during this epoch")
    args = ap.parse_args()
    out = []
    print(f"{'config':<9}{'serial':>9}{'dual':>9}{'dense':>9}{'fwd':>8}{'bwd':>8}{'upd':>8}"
          f"{'dual red.':>11}{'ceiling':>9}{'dense/ser':>11}  spike rates")
    for name in args.configs:
        r = schedule_cycles(load_config(name), args.epoch)
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
