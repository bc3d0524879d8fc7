"""Float arithmetic for :class:`golden.learner.Learner`: the algorithm in real numbers.

float32 throughout, so the LIF matches snnTorch's ``Leaky`` operation for operation
(tests/test_float_model.py). Weight rows are kept centered (initialised centered, every update
projected onto zero row mean), which equals SpikON's ``g * (W - mean(W))`` form exactly in
real arithmetic; tests/test_float_model.py checks the gradients against autograd of that form.
"""

from __future__ import annotations

import torch

from .learner import Learner, Params

__all__ = ["FloatArith", "float_learner"]


class FloatArith:
    """Real-valued operations (see golden/learner.py for where each is used)."""

    dtype = torch.float32
    acc_dtype = torch.float32

    def __init__(self, cfg):
        net = cfg.network
        self.beta = torch.tensor(net.leak, dtype=torch.float32)
        self.soft = net.reset == "soft"
        self.triangle = net.surrogate == "triangle"
        self.width = float(net.surrogate_width)
        self.ce = net.loss == "ce"
        self.hinge = net.loss == "hinge"
        self.target = float(net.target)
        self.n_classes = cfg.n_out

    def from_real(self, p: Params) -> Params:
        return p.map(lambda x: x.to(torch.float32))

    def to_real(self, p: Params) -> Params:
        return p.map(lambda x: x.to(torch.float64))

    # forward
    def matmul(self, a, b):
        return torch.matmul(a, b)

    def scale_gain(self, a, g):
        return a * g

    def acc_to_v(self, a):
        return a

    def leak_integrate(self, u, i):
        """u_pre = leak * u + I (snnTorch's ``beta * mem + input``)."""
        return self.beta * u + i

    def reset(self, u_pre, fire, vth: float):
        if self.soft:
            return torch.where(fire, u_pre - vth, u_pre)
        return torch.where(fire, 0.0, u_pre)

    # backward
    def loss_grad(self, out, label):
        onehot = torch.nn.functional.one_hot(label, self.n_classes).to(self.dtype)
        if self.ce:
            return torch.softmax(out, dim=-1) - onehot[:, None, :]
        err = out - self.target * onehot[:, None, :]
        if self.hinge:  # keep only errors on the wrong side of the target
            err = torch.where(err * (1 - 2 * onehot[:, None, :]) > 0, err, 0.0)
        return err

    def outer(self, err, s):
        return torch.matmul(err.reshape(-1, err.shape[-1]).T, s.reshape(-1, s.shape[-1]))

    def back(self, err, w):
        return torch.matmul(err, w)

    def surrogate(self, x):
        if self.triangle:
            return (1.0 - x.abs() / self.width).clamp(min=0.0)
        return (x.abs() < self.width / 2).to(self.dtype)

    def mul(self, x, y):
        return x * y

    def dot(self, delta, a):
        return (delta * a).sum(dim=(0, 2))

    # update
    def update_weights(self, w, g, shift, centering):
        if centering:
            g = g - g.mean(dim=1, keepdim=True)
        return w - g * 2.0**-shift

    def update_threshold(self, vth, g, shift):
        return vth - g * 2.0**-shift

    def update_gain(self, gain, g, shift):
        return gain - g * 2.0**-shift


def float_learner(cfg, params: Params | None = None) -> Learner:
    """A learner in float arithmetic; ``params`` real-valued (any float dtype) or None."""
    ar = FloatArith(cfg)
    return Learner(cfg, ar, ar.from_real(params) if params is not None else None)
