"""Stimuli for forward-pass tests: parameter sets and spike frames, seeded and named."""

from __future__ import annotations

import torch

from golden.fixed_model import FixedArith
from golden.fixed_point import hi, lo
from golden.learner import Params, init_params

__all__ = ["PARAM_KINDS", "FRAME_KINDS", "make_params", "make_frames", "make_labels"]

PARAM_KINDS = ("random", "saturate_high", "saturate_low")
FRAME_KINDS = ("random", "zeros", "ones", "digits")


def make_params(cfg, seed: int, kind: str = "random") -> Params:
    """Fixed-point parameters: ``random`` (init weights scaled up, thresholds and gains that
    differ per step), or every weight at its largest / smallest value with a threshold no
    membrane reaches / every membrane reaches (the saturation extremes)."""
    g = torch.Generator().manual_seed(seed)
    real = init_params(cfg.replace(seed=seed, network={"init_scale": 3.0}))
    real.vth = real.vth * (0.6 + 0.8 * torch.rand(real.vth.shape, generator=g,
                                                  dtype=torch.float64))
    real.gain = real.gain * (0.5 + torch.rand(real.gain.shape, generator=g,
                                              dtype=torch.float64))
    p = FixedArith(cfg).from_real(real)
    wb, vb = cfg.fixed.w_bits, cfg.fixed.v_bits
    if kind == "saturate_high":
        p.w = [torch.full_like(w, hi(wb)) for w in p.w]
        p.w_out = torch.full_like(p.w_out, hi(wb))
        p.gain = torch.full_like(p.gain, hi(vb))
        p.vth = torch.full_like(p.vth, hi(vb))
    elif kind == "saturate_low":
        p.w = [torch.full_like(w, lo(wb)) for w in p.w]
        p.w_out = torch.full_like(p.w_out, lo(wb))
        p.gain = torch.full_like(p.gain, hi(vb))
        p.vth = torch.full_like(p.vth, lo(vb))
    elif kind != "random":
        raise ValueError(f"kind must be one of {PARAM_KINDS}, not {kind!r}")
    return p


def make_frames(cfg, seed: int, kind: str = "random", n: int = 1) -> torch.Tensor:
    """Spike frames (n, T, n_in) uint8: random (rate 0.4), all zero, all one, or rate-coded
    digits from the test split."""
    shape = (n, cfg.timesteps, cfg.n_in)
    if kind == "zeros":
        return torch.zeros(shape, dtype=torch.uint8)
    if kind == "ones":
        return torch.ones(shape, dtype=torch.uint8)
    if kind == "random":
        g = torch.Generator().manual_seed(seed)
        return (torch.rand(shape, generator=g) < 0.4).to(torch.uint8)
    if kind == "digits":
        from golden.data import load_dataset
        from golden.train import TEST_STREAM, encode_split

        data = load_dataset(cfg)
        return encode_split(cfg, data.test_x[:n], TEST_STREAM)
    raise ValueError(f"kind must be one of {FRAME_KINDS}, not {kind!r}")


def make_labels(cfg, seed: int, kind: str, n: int, mode: str = "train") -> list:
    """Labels of ``n`` samples: the digits' own (``digits`` frames), random otherwise;
    ``mode`` ``infer`` gives None (inference), ``mixed`` alternates training and inference."""
    if kind == "digits":
        from golden.data import load_dataset

        labels = [int(y) for y in load_dataset(cfg).test_y[:n]]
    else:
        g = torch.Generator().manual_seed(seed + 17)
        labels = torch.randint(0, cfg.n_out, (n,), generator=g).tolist()
    if mode == "infer":
        return [None] * n
    if mode == "mixed":
        return [y if i % 2 == 0 else None for i, y in enumerate(labels)]
    return labels
