"""Fixed-point arithmetic for :class:`golden.learner.Learner`: bit-exact with the RTL.

Every value is an int64 tensor holding a saturated two's-complement number; every operation is
built from :mod:`golden.fixed_point` (one rounding rule, saturation, exact products). The
formats and each operation are written down in docs/fixed-point.md; the names there match the
method names here.
"""

from __future__ import annotations

import math

import torch

from rtl_gen.config import ConfigError, Problem

from .fixed_point import dequantize, exact_matmul, quantize, rshr, sat
from .learner import Learner, Params

__all__ = ["FixedArith", "fixed_learner"]


class FixedArith:
    """Integer operations. Formats: weights Q(w_bits, w_frac); membranes, thresholds, gains,
    readout, errors and deltas Q(v_bits, v_frac); accumulators exact (wide)."""

    dtype = torch.int64
    acc_dtype = torch.int64

    def __init__(self, cfg):
        net, f = cfg.network, cfg.fixed
        if net.loss == "ce":
            raise ConfigError([Problem("network.loss", net.loss,
                                       "'mse' or 'hinge' for the fixed model (softmax "
                                       "cross-entropy is a float-only option)")])
        self.hinge = net.loss == "hinge"
        self.f = f
        self.wb, self.wf, self.vb, self.vf = f.w_bits, f.w_frac, f.v_bits, f.v_frac
        self.one = 1 << f.v_frac
        # leak: u >> a for leak = 2**-a (checked first), u - (u >> a) for 1 - 2**-a, none for 1
        if net.leak == 1.0:
            self.leak_kind, self.leak_shift = "none", 0
        elif math.log2(net.leak).is_integer():
            self.leak_kind, self.leak_shift = "shift", int(-math.log2(net.leak))
        else:
            self.leak_kind, self.leak_shift = "one_minus", int(-math.log2(1.0 - net.leak))
        self.soft = net.reset == "soft"
        self.triangle = net.surrogate == "triangle"
        self.width_log2 = int(math.log2(net.surrogate_width))
        self.target = int(quantize(torch.tensor(net.target), f.v_frac, f.v_bits))
        self.n_classes = cfg.n_out
        eye = torch.eye(cfg.n_out, dtype=torch.int64)
        self.y_table = eye * self.target  # row k: the target vector of label k
        self.sign_table = 1 - 2 * eye  # +1 off the label, -1 on it
        # centering: row mean = (row sum * recip) >> recip_bits, recip = round(2**r / fan_in)
        self.recip = {n: (1 << f.recip_bits) // n + ((1 << f.recip_bits) % n * 2 >= n)
                      for n in cfg.network.layers[:-2]}

    def from_real(self, p: Params) -> Params:
        return Params([quantize(w, self.wf, self.wb) for w in p.w],
                      quantize(p.w_out, self.wf, self.wb),
                      quantize(p.vth, self.vf, self.vb), quantize(p.gain, self.vf, self.vb))

    def to_real(self, p: Params) -> Params:
        return Params([dequantize(w, self.wf) for w in p.w], dequantize(p.w_out, self.wf),
                      dequantize(p.vth, self.vf), dequantize(p.gain, self.vf))

    def sat_v(self, x):
        return sat(x, self.vb)

    # forward
    def matmul(self, a, b):
        return exact_matmul(a, b)

    def scale_gain(self, a, g):
        """current = sat_v(rshr(gain * acc, w_frac))."""
        return self.sat_v(rshr(a * g, self.wf))

    def acc_to_v(self, a):
        """current (or readout) = sat_v(rshr(acc, w_frac - v_frac))."""
        return self.sat_v(rshr(a, self.wf - self.vf))

    def leak_integrate(self, u, i):
        """u_pre = sat_v(leak(u) + I): leak rshr(u, a) for 2**-a, u - rshr(u, a) for
        1 - 2**-a, u for 1. In-place on a fresh tensor (the hot loop: fewer allocations)."""
        a = self.leak_shift
        if self.leak_kind == "shift":
            x = torch.add(u, 1 << (a - 1)).bitwise_right_shift_(a)
        elif self.leak_kind == "one_minus":
            x = torch.sub(u, rshr(u, a))
        else:
            x = u.clone()
        return x.add_(i).clamp_(-(1 << (self.vb - 1)), (1 << (self.vb - 1)) - 1)

    def reset(self, u_pre, fire, vth: int):
        """Soft: sat_v(u_pre - vth) where fired; hard: 0 where fired."""
        if not self.soft:
            return torch.where(fire, 0, u_pre)
        u = torch.where(fire, u_pre - vth, u_pre)
        # with vth >= 0 a fired u_pre - vth lies in [0, u_pre]: saturation is a no-op there
        return u if vth >= 0 else self.sat_v(u)

    # backward
    def loss_grad(self, out, label):
        """error = sat_v(o - target * onehot)."""
        err = self.sat_v(out - self.y_table[label][:, None, :])
        if self.hinge:  # keep only errors on the wrong side of the target
            err = torch.where(err * self.sign_table[label][:, None, :] > 0, err, 0)
        return err

    def outer(self, err, s):
        """Exact gradient accumulation sum_{b,t} err s^T (wide)."""
        return exact_matmul(err.reshape(-1, err.shape[-1]).T, s.reshape(-1, s.shape[-1]))

    def back(self, err, w):
        """ds = sat_v(rshr(err @ W, w_frac))."""
        return self.sat_v(rshr(exact_matmul(err, w), self.wf))

    def surrogate(self, x):
        """Triangle: max(0, ONE - |x| / width); rectangle: ONE where |x| < width / 2."""
        ax = x.abs()
        k = self.width_log2
        if self.triangle:
            m = rshr(ax, k) if k >= 0 else ax << -k
            return (self.one - m).clamp(min=0)
        half = 1 << (self.vf + k - 1)
        return torch.where(ax < half, self.one, 0)

    def mul(self, x, y):
        """Product of two Q(v) values: sat_v(rshr(x * y, v_frac))."""
        return self.sat_v(rshr(x * y, self.vf))

    def dot(self, delta, a):
        """Gain gradient sum_i delta_i a_i (scale v_frac + w_frac, wide)."""
        return (delta * a).sum(dim=(0, 2))

    # update
    def update_weights(self, w, g, shift, centering):
        """W = sat_w(W - rshr(G - m, v_frac + shift - w_frac)), m the rounded row mean."""
        if centering:
            m = rshr(g.sum(dim=1, keepdim=True) * self.recip[g.shape[1]], self.f.recip_bits)
            g = g - m
        return sat(w - rshr(g, self.vf + shift - self.wf), self.wb)

    def update_threshold(self, vth, g, shift):
        return self.sat_v(vth - rshr(g, shift))

    def update_gain(self, gain, g, shift):
        return self.sat_v(gain - rshr(g, self.wf + shift))


def fixed_learner(cfg, params: Params | None = None) -> Learner:
    """A bit-exact fixed-point learner; ``params`` real-valued (quantized here) or None."""
    ar = FixedArith(cfg)
    return Learner(cfg, ar, ar.from_real(params) if params is not None else None)
