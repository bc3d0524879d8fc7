"""Simulation speed of the generated core under Verilator + cocotb.

Runs digits samples through the default core (random-init parameters), with the testbench
checking the readouts and the cycle counter of every sample; once without and once with the
per-group observation monitor (every membrane, spike and readout checked). Prints simulated
cycles (loading frames, the forward pass, reading readouts) per second of wall time
and writes bench/results/sim_speed.json.

    python bench/sim_speed.py [--config default] [--samples 40]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rtl_gen.config import load_config
from sim.regress import build_core, run_forward

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="default")
    ap.add_argument("--samples", type=int, default=40)
    args = ap.parse_args()
    cfg = load_config(args.config)
    sim = build_core(cfg)
    print(f"config {cfg.name}: Verilator build {'cached' if sim.cached else 'fresh'} "
          f"({sim.seconds:.1f} s)")
    cases = [{"params": "random", "frames": "digits", "seed": 1, "samples": args.samples}]
    out = {"config": cfg.name, "samples": args.samples, "build_seconds": sim.seconds}
    for observe in (False, True):
        r = run_forward(cfg, cases, seed=1, observe=observe, sim=sim)
        secs = r.report["run_seconds"]
        rate = r.report["sim_cycles"] / secs
        key = "observed" if observe else "readout_only"
        out[key] = {"forward_cycles": r.forward_cycles, "sim_cycles": r.report["sim_cycles"],
                    "run_seconds": secs,
                    "cycles_per_s": rate, "records": r.records,
                    "samples_per_s": r.samples / secs}
        print(f"{key:<13} {r.samples} samples, {r.report['sim_cycles']} cycles "
              f"({r.forward_cycles} in forward passes) in {secs:.2f} s: {rate:,.0f} cycles/s "
              f"({r.records} records checked)")
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "sim_speed.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
