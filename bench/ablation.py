"""Ablation of SpikON's two additions, in float and fixed point.

Trains the config's network with the learnable temporal threshold on/off and the temporally
scaled weight centering on/off, for both golden models (and optionally several seeds), in
parallel worker processes. Prints a table and writes bench/results/ablation.json.

    python bench/ablation.py [--config default] [--epochs N] [--seeds 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from _results import write_results  # bench/_results.py (scripts run from bench/)



def run_point(args: tuple) -> dict:
    config, model, threshold, centering, seed, epochs = args
    from golden.train import train
    from rtl_gen.config import load_config

    cfg = load_config(config).replace(
        seed=seed, network={"learn_threshold": threshold, "weight_centering": centering})
    res, _ = train(cfg, model, epochs, progress=False, log=lambda *_: None)
    return {"model": model, "learn_threshold": threshold, "weight_centering": centering,
            "seed": seed, "test_accuracy": res.test_accuracy,
            "best_test_accuracy": max(res.test_accuracy_per_epoch),
            "train_accuracy": res.train_accuracy, "spike_rate": res.spike_rate,
            "seconds": res.seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=1, help="seeds 1..N per point")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    points = [(args.config, m, th, c, s, args.epochs)
              for m, th, c, s in itertools.product(("float", "fixed"), (True, False),
                                                   (True, False), range(1, args.seeds + 1))]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as ex:
        rows = list(ex.map(run_point, points))
    wall = time.perf_counter() - t0
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["model"], r["learn_threshold"], r["weight_centering"]), []).append(r)
    summary = []
    print(f"ablation on {args.config}: final test accuracy, mean over {args.seeds} seed(s)")
    print(f"{'model':<7}{'threshold':>10}{'centering':>10}{'test %':>9}{'min %':>8}{'max %':>8}"
          f"{'lif1 rate':>10}")
    for (m, th, c), rs in groups.items():
        accs = [r["test_accuracy"] for r in rs]
        row = {"model": m, "learn_threshold": th, "weight_centering": c,
               "test_accuracy": statistics.mean(accs), "test_accuracy_min": min(accs),
               "test_accuracy_max": max(accs),
               "lif1_spike_rate": statistics.mean(r["spike_rate"]["lif1"] for r in rs)}
        summary.append(row)
        print(f"{m:<7}{'on' if th else 'off':>10}{'on' if c else 'off':>10}"
              f"{100 * row['test_accuracy']:>9.2f}{100 * min(accs):>8.2f}{100 * max(accs):>8.2f}"
              f"{row['lif1_spike_rate']:>10.3f}")
    print(f"{len(rows)} trainings in {wall:.0f} s on {args.workers} workers")
    write_results("ablation", {"config": args.config, "epochs": args.epochs,
                               "seeds": args.seeds, "summary": summary, "runs": rows,
                               "seconds": wall})


if __name__ == "__main__":
    main()
