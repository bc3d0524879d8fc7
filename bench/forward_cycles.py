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

import numpy as np

from golden.data import load_dataset
from golden.timing import FIRE_STAGES, infer_timing, input_event_counts
from golden.train import TEST_STREAM, encode_split, train
from rtl_gen.config import load_config
from rtl_gen.memory_map import MemoryMap
from _results import write_results  # bench/_results.py (scripts run from bench/)



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    cfg = load_config(args.config)
    res, learner = train(cfg, "fixed", args.epochs, progress=False, log=lambda *_: None)
    data = load_dataset(cfg)
    frames = encode_split(cfg, data.test_x, TEST_STREAM)
    tr = learner.infer(frames)
    mm = MemoryMap.of(cfg)
    n = len(frames)
    K = mm.n_weight_layers
    cycles = bound = 0
    # per layer: event work; fixed overhead (LOAD, START, one FIRE cycle per group, the FIRE
    # pipeline draining); empty-input cycles. The rest of a run's cycles: one scheduler cycle
    # per step and one at the end.
    per_layer = np.zeros((K, 3))
    for i in range(n):
        ft = infer_timing(mm, input_event_counts(frames[i], tr, i))
        cycles += ft.cycles
        bound += ft.event_bound
        for p in ft.phases:
            per_layer[p.layer] += (p.events * p.groups, 2 + p.groups + FIRE_STAGES,
                                   p.acc_cycles - p.events * p.groups)
    ratio = cycles / bound
    print(f"config {cfg.name}: layers {list(cfg.network.layers)}, T={cfg.timesteps}, "
          f"{cfg.hardware.lanes} lanes; fixed model trained {res.epochs} epochs "
          f"(test accuracy {100 * res.test_accuracy:.2f}%), {n} test samples")
    print(f"forward cycles per sample {cycles / n:.1f}, event bound {bound / n:.1f}, "
          f"ratio {ratio:.3f} ({100 * (ratio - 1):.1f}% overhead)")
    layers = []
    for l in range(K):
        work, over, empty = per_layer[l] / n
        name = f"lif{l + 1}" if l < mm.n_lif else "readout"
        print(f"  {name:<8} events x groups {work:8.1f}   LOAD+START+FIRE+DRAIN {over:6.1f}"
              f"   empty-input cycles {empty:5.2f}   (G = {mm.groups(l)})")
        layers.append({"layer": name, "event_cycles": work, "overhead_cycles": over,
                       "empty_cycles": empty, "groups": mm.groups(l)})
    out = {"config": cfg.name, "samples": n, "epochs": res.epochs,
           "test_accuracy": res.test_accuracy, "cycles_per_sample": cycles / n,
           "event_bound_per_sample": bound / n, "ratio": ratio, "layers": layers,
           "spike_rate": res.spike_rate}
    write_results("forward_cycles", out)


if __name__ == "__main__":
    main()
