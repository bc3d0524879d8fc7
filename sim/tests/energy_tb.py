"""cocotb test: a few digits trained and inferred through the core, each checked against the
golden models by the testbench (sim/tb.py), reporting every run's cycle counters and event
counts for the energy model's reconciliation (tests/test_energy.py)."""

from __future__ import annotations

import cocotb


@cocotb.test()
async def energy_rtl_runs(dut):
    """Train the first ``samples`` digits, then infer ``inferences`` test digits; report each
    run's cycle counters and event counts."""
    from golden.data import load_dataset
    from golden.fixed_model import FixedArith
    from golden.learner import init_params
    from golden.train import TEST_STREAM, encode_split, epoch_samples
    from rtl_gen.config import parse_config
    from sim.runner import tb_args, tb_report
    from sim.tb import TB

    a = tb_args()
    cfg = parse_config(a["config"])
    tb = TB(dut, cfg, observe=False)
    await tb.start()
    await tb.load(FixedArith(cfg).from_real(init_params(cfg)))
    data = load_dataset(cfg)
    _, frames, labels, _ = next(epoch_samples(cfg, data, 1))
    runs = []
    for i in range(a["samples"]):
        res = await tb.run_sample(frames[i], int(labels[i]), readback=False)
        runs.append({"counters": res.counters, "counts": res.counts.tolist()})
    for x in encode_split(cfg, data.test_x[:a["inferences"]], TEST_STREAM):
        res = await tb.run_sample(x, None, readback=False)
        runs.append({"counters": res.counters, "counts": res.counts.tolist()})
    tb_report(runs=runs)
