"""Energy per training sample and per inference on digits, SNN vs ANN, event-driven vs dense.

For each config the fixed model learns the first ``--samples`` training digits online (the
stream every trainer uses) and then infers as many test digits; every run's counts go through
the timing model (golden/timing.py, equal to the RTL's counters) and the energy model
(golden/energy.py: operation and memory-access counts per phase times the 45 nm figures of
Horowitz, ISSCC 2014; docs/energy.md). Prints per config pJ per training sample and per
inference, the energy-delay product at the config's clock (or ``--fmax``), the energy of an
ANN of the same shape on the same fabric and the SNN/ANN ratio, the dense/event-driven ratio,
and each phase's share of the training energy; writes bench/results/energy.json (one object
per config, :func:`golden.energy.measure_energy`).

    python bench/energy.py [CONFIG ...] [--samples 500] [--inferences N] [--fmax MHZ]
"""

from __future__ import annotations

import argparse

import torch

from golden.energy import PHASES, measure_energy
from rtl_gen.config import load_config
from _results import write_results  # bench/_results.py (scripts run from bench/)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("configs", nargs="*", default=["tiny", "default", "up5k", "ecp5"])
    ap.add_argument("--samples", type=int, default=500, help="training samples per config")
    ap.add_argument("--inferences", type=int, default=None,
                    help="test samples inferred per config (default: --samples)")
    ap.add_argument("--fmax", type=float, default=None,
                    help="clock in MHz for the delay (default: each config's clock_mhz)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # batch-1 learning: threads cost more than they give
    out = []
    print(f"{'config':<9}{'pJ/train':>11}{'pJ/infer':>10}{'EDP train':>11}{'EDP inf':>10}"
          f"{'ANN pJ/tr':>11}{'SNN/ANN':>9}{'(infer)':>9}{'dense/ev':>10}{'(infer)':>9}"
          f"{'memory':>8}")
    print(f"{'':<9}{'':>11}{'':>10}{'pJ s':>11}{'pJ s':>10}{'':>11}{'':>9}{'':>9}{'':>10}"
          f"{'':>9}{'share':>8}")
    for name in args.configs:
        r = measure_energy(load_config(name), args.samples, args.inferences,
                           fmax_mhz=args.fmax)
        out.append(r)
        mem = r["detail"]["snn"]["train"]["memory_pj"] / r["train_pj"]

        def f(key: str, width: int, spec: str, unit: str = "") -> str:
            x = r[key]  # None: no inference was run
            return f"{'-':>{width}}" if x is None else f"{x:>{width - len(unit)}{spec}}{unit}"

        print(f"{name:<9}{f('train_pj', 11, ',.0f')}{f('infer_pj', 10, ',.0f')}"
              f"{f('train_edp_pj_s', 11, '.3g')}{f('infer_edp_pj_s', 10, '.3g')}"
              f"{f('ann_train_pj', 11, ',.0f')}{f('snn_over_ann', 9, '.2f', 'x')}"
              f"{f('snn_over_ann_infer', 9, '.2f', 'x')}{f('dense_over_event', 10, '.2f', 'x')}"
              f"{f('dense_over_event_infer', 9, '.2f', 'x')}{100 * mem:>7.1f}%", flush=True)
    phases = [p for ps in PHASES.values() for p in ps]
    print("\nshare of the training energy by phase (clock "
          + ", ".join(f"{r['config']} {r['clock_mhz']:g} MHz" for r in out) + "):")
    print(f"{'config':<9}" + "".join(f"{p:>10}" for p in phases) + f"{'cycles':>9}")
    for r in out:
        s = r["train_share_by_phase"]
        print(f"{r['config']:<9}" + "".join(f"{100 * s[p]:>9.1f}%" for p in phases)
              + f"{r['train_cycles']:>9.0f}")
    print("\nlargest memories by training energy:")
    for r in out:
        mems = sorted(r["train_pj_by_memory"].items(), key=lambda kv: -kv[1])[:3]
        print(f"  {r['config']:<9}" + ", ".join(f"{m} {100 * pj / r['train_pj']:.1f}%"
                                                 for m, pj in mems))
    write_results("energy", out)


if __name__ == "__main__":
    main()
