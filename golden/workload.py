"""The core's cycles on a data set: the timing model (golden/timing.py) over the spike and
error counts of the fixed-point learner (bit-exact with the core) on the exact stream the
trainers learn from. bench/schedule.py, bench/forward_cycles.py and ``snngen report`` all
measure through here.
"""

from __future__ import annotations

import numpy as np

from rtl_gen.memory_map import MemoryMap

from . import fixed_learner
from .data import load_dataset
from .timing import (SCHEDULES, forward_overhead, infer_timing, input_event_counts, sample_counts,
                     train_timing)
from .train import TEST_STREAM, encode_split, epoch_samples, layer_names

__all__ = ["schedule_cycles", "inference_cycles"]


def schedule_cycles(cfg, epoch: int = 1, samples: int | None = None, data=None) -> dict:
    """Cycles per training sample under each schedule (serial, dual, dense) during epoch
    ``epoch`` (the earlier ones train the network first), over its first ``samples`` samples
    (all when None): per engine, the dual reduction ``1 - dual / serial``, its ceiling, the
    sparsity speed-up ``dense / serial`` and the spike rate into each weight layer."""
    data = data or load_dataset(cfg)
    learner, mm = fixed_learner(cfg), MemoryMap.of(cfg)
    for e, frames, labels, shifts in epoch_samples(cfg, data, epoch):
        n = len(labels) if e < epoch or samples is None else min(samples, len(labels))
        totals = {s: np.zeros(4) for s in SCHEDULES}
        events = np.zeros(mm.n_weight_layers)
        for i in range(n):
            tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
            if e < epoch:
                continue
            c = sample_counts(mm, frames[i], tr, g)
            events += c.events.sum(1)
            for s in SCHEDULES:
                rt = train_timing(mm, c, s)
                totals[s] += (rt.cycles, rt.forward, rt.backward, rt.update)
    cyc = {s: totals[s][0] / n for s in SCHEDULES}
    fwd, bwd, upd = (totals["serial"][k] / n for k in (1, 2, 3))
    rates = {name: float(events[l] / (n * cfg.timesteps * mm.fan_in(l)))
             for l, name in enumerate(layer_names(cfg))}
    return {"config": cfg.name, "layers": list(cfg.network.layers), "timesteps": cfg.timesteps,
            "lanes": cfg.hardware.lanes, "epoch": epoch, "samples": n,
            "cycles_per_sample": cyc, "fwd_cycles": fwd, "bwd_cycles": bwd, "upd_cycles": upd,
            "dense_engine_cycles": {"fwd": totals["dense"][1] / n, "bwd": totals["dense"][2] / n,
                                    "upd": totals["dense"][3] / n},
            "dual_reduction": 1 - cyc["dual"] / cyc["serial"],
            "dual_ceiling": min(fwd, bwd) / (fwd + bwd + upd),
            "sparsity_speedup": cyc["dense"] / cyc["serial"], "spike_rate": rates}


def inference_cycles(cfg, learner, data=None, samples: int | None = None) -> dict:
    """Inference cycles per test sample (the first ``samples``, all when None) of ``learner``
    against the event bound ``sum nnz(s_in) * G``, and per weight layer its event work, its
    fixed overhead (LOAD, START, one FIRE cycle per group, the FIRE pipeline draining) and its
    empty-input ACC cycles. The rest of a run's cycles: one scheduler cycle per step and one
    at the end."""
    data = data or load_dataset(cfg)
    frames = encode_split(cfg, data.test_x, TEST_STREAM)
    if samples:
        frames = frames[:samples]
    tr = learner.infer(frames)
    mm = MemoryMap.of(cfg)
    n, K = len(frames), mm.n_weight_layers
    cycles = bound = 0
    per = np.zeros((K, 2))  # per weight layer: event work, empty-input ACC cycles
    for i in range(n):
        ft = infer_timing(mm, input_event_counts(frames[i], tr, i))
        cycles += ft.cycles
        bound += ft.event_bound
        for p in ft.phases:
            work = p.events * p.groups
            per[p.layer] += (work, p.acc_cycles - work)
    layers = []
    for l in range(K):
        work, empty = per[l] / n
        layers.append({"layer": f"lif{l + 1}" if l < mm.n_lif else "readout",
                       "event_cycles": work,
                       "overhead_cycles":
                           cfg.timesteps * forward_overhead(mm.groups(l), mm.fire_stages),
                       "empty_cycles": empty, "groups": mm.groups(l)})
    return {"config": cfg.name, "samples": n, "cycles_per_sample": cycles / n,
            "event_bound_per_sample": bound / n, "ratio": cycles / bound if bound else None,
            "layers": layers}
