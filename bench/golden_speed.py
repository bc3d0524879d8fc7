"""Golden-model training throughput: online (batch-1) training samples per second.

Measures the fixed model (the one the RTL matches) and, in the same process as a baseline,
the float model, on the same pre-encoded digits frames. Prints a table and writes
bench/results/golden_speed.json.

    python bench/golden_speed.py [--config default] [--samples 1500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from golden import make_learner
from golden.data import load_dataset
from golden.learner import lr_shifts
from golden.train import TRAIN_STREAM, encode_split
from rtl_gen.config import load_config

RESULTS = Path(__file__).resolve().parent / "results"


def measure(cfg, model: str, frames, labels, repeats: int) -> float:
    """Best-of-``repeats`` samples/s over ``len(frames)`` online training samples."""
    shifts = lr_shifts(cfg, 1)
    best = 0.0
    for _ in range(repeats):
        learner = make_learner(cfg, model)
        t0 = time.perf_counter()
        for i in range(len(frames)):
            learner.train_sample(frames[i], int(labels[i]), shifts)
        best = max(best, len(frames) / (time.perf_counter() - t0))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--samples", type=int, default=1437)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(args.config)
    data = load_dataset(cfg)
    n = min(args.samples, len(data.train_y))
    frames = encode_split(cfg, data.train_x[:n], TRAIN_STREAM)
    labels = data.train_y[:n]
    rows = {m: measure(cfg, m, frames, labels, args.repeats) for m in ("fixed", "float")}
    print(f"config {cfg.name}: layers {list(cfg.network.layers)}, T={cfg.timesteps}, "
          f"{n} samples, best of {args.repeats}, 1 thread")
    print(f"{'model':<8}{'samples/s':>12}")
    for m, v in rows.items():
        print(f"{m:<8}{v:>12.0f}")
    ratio = rows["fixed"] / rows["float"]
    print(f"fixed / float: {ratio:.2f}")
    out = {"config": cfg.name, "samples": n, "repeats": args.repeats, "threads": 1,
           "fixed_samples_per_s": rows["fixed"], "float_samples_per_s": rows["float"],
           "fixed_over_float": ratio, "machine": platform.machine(),
           "cpu_count": torch.get_num_threads(), "torch": torch.__version__}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "golden_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
