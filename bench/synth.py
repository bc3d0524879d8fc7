"""Area, Fmax and training speed on FPGAs against the PyTorch CPU baseline.

For each config and target: the core behind its UART bridge through yosys and nextpnr
(rtl_gen/synth.py; cached per design in build/synth/), the cycles of an online training
sample from the timing model on real digits (golden/timing.py, which the RTL's counters
equal), samples/s at the achieved Fmax, and, measured in the same run on the same samples,
the float golden model training online with batch 1 in PyTorch on this machine's CPU (one
thread; best of ``--repeats`` runs, the machines are shared VMs). Prints a table and writes
bench/results/synth.json (a list, one object per config and target; the rows of pairs not
run this time stay).

With ``--seeds N`` (or ``CONFIG:TARGET:N`` for one run) nextpnr places each core at seeds
1..N (one run per core) and the figures are the fastest seed's; every seed's Fmax is in the
JSON (``fmax_by_seed``).

    python bench/synth.py [CONFIG:TARGET[:SEEDS] ...] [--seeds 1] [--samples 200] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import torch

from golden import fixed_learner
from golden.data import load_dataset
from golden.learner import lr_shifts
from golden.timing import sample_counts, train_timing
from golden.train import TRAIN_STREAM, encode_split
from rtl_gen.config import load_config
from rtl_gen.memory_map import MemoryMap
from rtl_gen.synth import format_results, synthesize
from _results import previous_results, write_results  # bench/_results.py (scripts run from bench/)
from golden_speed import measure as cpu_rates

DEFAULT = ["up5k:ice40-up5k", "ecp5:ecp5-85k"]
BUILD = Path(__file__).resolve().parent.parent / "build" / "synth"


def cycles_per_sample(cfg, frames, labels) -> dict[str, float]:
    """Mean cycles of an online training sample (the config's schedule) and its phases."""
    learner, mm, shifts = fixed_learner(cfg), MemoryMap.of(cfg), lr_shifts(cfg, 1)
    tot = {"cycles": 0.0, "forward": 0.0, "backward": 0.0, "update": 0.0}
    for i in range(len(frames)):
        tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
        rt = train_timing(mm, sample_counts(mm, frames[i], tr, g), cfg.hardware.schedule)
        for k in tot:
            tot[k] += getattr(rt, k) / len(frames)
    return tot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="*", default=DEFAULT,
                    help="CONFIG:TARGET pairs (CONFIG:TARGET:SEEDS: that many nextpnr seeds)")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=1, help="nextpnr seeds 1..N per core")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows, results = [], []
    for run in args.runs:
        name, target, *n_seeds = run.split(":")
        seeds = int(n_seeds[0]) if n_seeds else args.seeds
        cfg = load_config(name)
        data = load_dataset(cfg)
        n = min(args.samples, len(data.train_y))
        frames = encode_split(cfg, data.train_x[:n], TRAIN_STREAM)
        labels = data.train_y[:n]
        print(f"{name} on {target}: synthesizing (cached in build/synth/) ...", flush=True)
        res = synthesize(cfg, target, BUILD / f"{cfg.hash()}-{target}", seeds=seeds,
                         progress=lambda line: print(line, flush=True))
        results.append(res)
        cyc = cycles_per_sample(cfg, frames, labels)
        cpu = max(cpu_rates(cfg, "float", frames, labels, args.repeats))
        fmax = res.fmax_mhz if res.fits else None
        sps = fmax * 1e6 / cyc["cycles"] if fmax else None
        at_clock = cfg.hardware.clock_mhz * 1e6 / cyc["cycles"]
        rows.append({
            "config": name, "target": target, "layers": list(cfg.network.layers),
            "timesteps": cfg.timesteps, "lanes": cfg.hardware.lanes,
            "schedule": cfg.hardware.schedule, "fits": res.fits, "problems": res.problems,
            "fmax_mhz": fmax, "clock_mhz": cfg.hardware.clock_mhz,
            "timing_met": res.timing_met, "logic_cells": res.logic_cells, "ffs": res.ffs,
            "brams": res.brams, "sprams": res.sprams, "dsps": res.dsps,
            "capacity": res.capacity, "placed": res.placed,
            "cycles_per_sample": cyc["cycles"],
            "phase_cycles": {k: cyc[k] for k in ("forward", "backward", "update")},
            "samples_per_s": sps, "samples_per_s_at_clock": at_clock,
            "cpu_samples_per_s": cpu, "speedup": sps / cpu if sps else None,
            "speedup_at_clock": at_clock / cpu, "samples": n,
            "seed": res.seed, "fmax_by_seed": res.fmax_by_seed,
            "critical_path": res.critical_path,
            "machine": platform.machine(), "torch": torch.__version__,
        })
    print()
    print(format_results(results))
    print()
    print(f"{'config':<8}{'target':<12}{'cycles/sample':>14}{'Fmax':>8}{'samples/s':>11}"
          f"{'CPU float/s':>13}{'speedup':>9}{'at clock':>10}")
    for r in rows:
        sps = f"{r['samples_per_s']:.0f}" if r["samples_per_s"] else "-"
        fmax = f"{r['fmax_mhz']:.1f}" if r["fmax_mhz"] else "-"
        sp = f"{r['speedup']:.1f}x" if r["speedup"] else "-"
        print(f"{r['config']:<8}{r['target']:<12}{r['cycles_per_sample']:>14.0f}{fmax:>8}"
              f"{sps:>11}{r['cpu_samples_per_s']:>13.0f}{sp:>9}"
              f"{r['speedup_at_clock']:>9.1f}x")
    # keep the rows of other config/target pairs from earlier runs
    keep = [r for r in previous_results("synth")
            if (r.get("config"), r.get("target")) not in {(x["config"], x["target"]) for x in rows}]
    write_results("synth", keep + rows)


if __name__ == "__main__":
    main()
