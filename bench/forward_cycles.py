"""Forward-pass cycles of the generated core against the event bound, on real digits.

Trains the fixed model (the config's epochs, or --epochs), then runs the test set through it
and the timing model (golden/timing.py; the RTL's cycle counter equals it, see
tests/test_rtl_cocotb.py). The event bound is ``sum nnz(s_in) * ceil(n_out / lanes)`` over
layers and steps. Prints cycles per sample, the ratio to the bound and where the overhead
is; writes bench/results/forward_cycles.json.

    python bench/forward_cycles.py [--config default] [--epochs 10]
"""

from __future__ import annotations

import argparse

from golden.train import train
from golden.workload import inference_cycles
from rtl_gen.config import load_config
from _results import write_results  # bench/_results.py (scripts run from bench/)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    cfg = load_config(args.config)
    res, learner = train(cfg, "fixed", args.epochs, progress=False, log=lambda *_: None)
    out = inference_cycles(cfg, learner)
    n, ratio = out["samples"], out["ratio"]
    print(f"config {cfg.name}: layers {list(cfg.network.layers)}, T={cfg.timesteps}, "
          f"{cfg.hardware.lanes} lanes; fixed model trained {res.epochs} epochs "
          f"(test accuracy {100 * res.test_accuracy:.2f}%), {n} test samples")
    print(f"forward cycles per sample {out['cycles_per_sample']:.1f}, event bound "
          f"{out['event_bound_per_sample']:.1f}, ratio {ratio:.3f} "
          f"({100 * (ratio - 1):.1f}% overhead)")
    for ly in out["layers"]:
        print(f"  {ly['layer']:<8} events x groups {ly['event_cycles']:8.1f}   "
              f"LOAD+START+ADRAIN+FIRE+DRAIN {ly['overhead_cycles']:6.1f}   empty-input cycles "
              f"{ly['empty_cycles']:5.2f}   (G = {ly['groups']})")
    write_results("forward_cycles", {**out, "epochs": res.epochs,
                                     "test_accuracy": res.test_accuracy,
                                     "spike_rate": res.spike_rate})


if __name__ == "__main__":
    main()
