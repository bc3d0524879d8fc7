"""Simulation speed of the generated core under Verilator + cocotb.

Runs digits samples through the default core (random-init parameters), the testbench checking
the cycle counters, readouts and event counts of every sample against the golden models:
inference; training; training with every parameter read back after every sample; training
with the per-group observation monitor too (every membrane, spike and surrogate checked).
Prints simulated cycles (host words and runs) per second of wall time and writes
bench/results/sim_speed.json.

    python bench/sim_speed.py [--config default] [--samples 40]
"""

from __future__ import annotations

import argparse

from rtl_gen.config import load_config
from sim.regress import build_core, run_core
from _results import write_results  # bench/_results.py (scripts run from bench/)



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    cfg = load_config(args.config)
    sim = build_core(cfg)
    print(f"config {cfg.name}: Verilator build {'cached' if sim.cached else 'fresh'} "
          f"({sim.seconds:.1f} s)")
    out = {"config": cfg.name, "samples": args.samples, "build_seconds": sim.seconds}
    variants = {"infer": ("infer", False, False), "train": ("train", False, False),
                "train_readback": ("train", True, False), "train_observed": ("train", True, True)}
    for key, (mode, readback, observe) in variants.items():
        cases = [{"params": "random", "frames": "digits", "seed": 1, "samples": args.samples,
                  "mode": mode}]
        r = run_core(cfg, cases, seed=1, observe=observe, readback=readback, sim=sim)
        assert r.passed, r.message
        secs = r.report["run_seconds"]
        rate = r.report["sim_cycles"] / secs
        out[key] = {"run_cycles": r.run_cycles, "sim_cycles": r.report["sim_cycles"],
                    "run_seconds": secs, "cycles_per_s": rate, "records": r.records,
                    "samples_per_s": r.samples / secs}
        print(f"{key:<15} {r.samples} samples, {r.report['sim_cycles']} cycles "
              f"({r.run_cycles} in runs) in {secs:.2f} s: {rate:,.0f} cycles/s, "
              f"{r.samples / secs:.1f} samples/s ({r.records} records checked)")
    write_results("sim_speed", out)


if __name__ == "__main__":
    main()
