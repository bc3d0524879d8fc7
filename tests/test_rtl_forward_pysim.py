"""The core's forward pass in amaranth.sim: every value bit-exact, every record cycle-exact."""

import pytest
import torch

from golden.fixed_model import FixedArith
from golden.learner import init_params
from rtl_gen.config import load_config
from sim.pysim import run_forward_pysim


def _case(cfg, seed, rate=0.4):
    g = torch.Generator().manual_seed(seed)
    real = init_params(cfg.replace(seed=seed))
    # per-step thresholds and gains that differ, so indexing mistakes show
    real.vth = real.vth * (0.6 + 0.8 * torch.rand(real.vth.shape, generator=g, dtype=torch.float64))
    real.gain = real.gain * (0.5 + torch.rand(real.gain.shape, generator=g, dtype=torch.float64))
    params = FixedArith(cfg).from_real(real)
    frames = (torch.rand(cfg.timesteps, cfg.n_in, generator=g) < rate).to(torch.uint8)
    return params, frames


@pytest.mark.parametrize("lanes, layers, T, reset, leak, centering", [
    (4, [64, 16, 10], 4, "soft", 0.5, True),
    (3, [20, 11, 5], 3, "hard", 0.75, False),
    (1, [9, 7, 3], 2, "soft", 1.0, True),
    (5, [40, 13, 9, 6], 3, "soft", 0.25, True),
])
def test_forward_bit_and_cycle_exact(lanes, layers, T, reset, leak, centering):
    cfg = load_config("tiny").replace(
        network={"layers": layers, "timesteps": T, "reset": reset, "leak": leak,
                 "weight_centering": centering, "init_scale": 3.0},
        hardware={"lanes": lanes})
    params, frames = _case(cfg, seed=lanes)
    sb = run_forward_pysim(cfg, params, frames)
    assert len(sb.seen) == len(sb.expected)
    assert any(lt.spikes.sum() > 0 for lt in sb.trace.layers)  # not a silent network
