"""The online learner (DESIGN.md, 'The algorithm'), written once for two number systems.

:class:`Learner` holds the structure of the algorithm -- LIF layers with a per-step threshold
and centering gain, a non-spiking readout, SLTT spatial-only backward at every step, per-sample
(or per-step) SGD -- and delegates every arithmetic operation to an *arithmetic* object:

* :class:`golden.float_model.FloatArith` -- real numbers (float32), the algorithm itself;
* :class:`golden.fixed_model.FixedArith` -- saturating fixed point, bit-exact with the RTL.

So float and fixed differ only where the numbers differ, which is what the agreement tests
measure.

Dataflow of one layer ``l`` at step ``t`` (``s`` spikes in, all per-sample):

forward   ``a = W s``; ``I = g[t] a`` (centering) or ``a``; ``u_pre = leak(u) + I``;
          ``s_out = u_pre >= vth[t]``; ``u = u_pre - s_out vth[t]`` (soft) or 0 (hard)
readout   ``o = W_out s_L``
backward  ``e = dL/do``; ``ds_L = W_out^T e``; per layer from the top:
          ``delta = ds * sg(u_pre - vth[t])``; ``dvth[t] = -sum delta``;
          ``dg[t] = sum delta * a``; ``da = g[t] delta``; ``G += da s^T``; ``ds = W^T da``
update    ``W -= lr * center(G)``; ``vth -= lr_th * dvth``; ``g -= lr_g * dg``

Because the backward pass is spatial only and the weights change once per sample, the
forward matrix products of all T steps are computed at once (one product per layer), and so
are the backward ones; only the membrane recurrence loops over time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import torch

__all__ = ["Params", "LayerTrace", "Trace", "Grads", "Learner", "init_params", "lr_shifts",
           "lif_steps", "prediction"]


@dataclass
class Params:
    """Learnable state. Real or integer tensors, as the arithmetic keeps them.

    Members
    -------
    w : list of (n_out, n_in) tensors, one per LIF layer (rows centered when centering is on)
    w_out : (n_classes, n_last) readout weights
    vth : (L, T) threshold per LIF layer per time step
    gain : (L, T) centering gain per LIF layer per time step
    """

    w: list[torch.Tensor]
    w_out: torch.Tensor
    vth: torch.Tensor
    gain: torch.Tensor

    def clone(self) -> "Params":
        return Params([w.clone() for w in self.w], self.w_out.clone(), self.vth.clone(),
                      self.gain.clone())

    def map(self, fn) -> "Params":
        return Params([fn(w) for w in self.w], fn(self.w_out), fn(self.vth), fn(self.gain))

    def equal(self, other: "Params") -> bool:
        return (all(torch.equal(a, b) for a, b in zip(self.w, other.w))
                and torch.equal(self.w_out, other.w_out) and torch.equal(self.vth, other.vth)
                and torch.equal(self.gain, other.gain))


def init_params(cfg) -> Params:
    """Real-valued (float64) initial parameters from ``cfg.seed`` (both models start here)."""
    gen = torch.Generator().manual_seed(cfg.seed)
    net = cfg.network
    sizes = net.layers

    def draw(n_out: int, n_in: int) -> torch.Tensor:
        scale = net.init_scale / math.sqrt(n_in)
        if net.init == "uniform":
            return (torch.rand(n_out, n_in, generator=gen, dtype=torch.float64) * 2 - 1) * scale
        return torch.randn(n_out, n_in, generator=gen, dtype=torch.float64) * scale

    ws = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
        w = draw(n_out, n_in)
        if net.weight_centering:
            w = w - w.mean(dim=1, keepdim=True)
        ws.append(w)
    w_out = draw(sizes[-1], sizes[-2])
    n_lif, t = len(sizes) - 2, net.timesteps
    vth = torch.full((n_lif, t), net.threshold_init, dtype=torch.float64)
    gain = torch.full((n_lif, t), net.gain_init, dtype=torch.float64)
    return Params(ws, w_out, vth, gain)


def lr_shifts(cfg, epoch: int) -> tuple[int, int, int]:
    """(weight, threshold, gain) learning-rate shifts in epoch ``epoch`` (1-based)."""
    extra = sum(1 for d in cfg.train.lr_decay_epochs if d <= epoch)
    tr = cfg.train
    return tr.lr_shift + extra, tr.lr_shift_threshold + extra, tr.lr_shift_gain + extra


@dataclass
class LayerTrace:
    """Forward values of one LIF layer over a chunk of steps, each (B, C, n)."""

    s_in: torch.Tensor
    a: torch.Tensor
    current: torch.Tensor
    u_pre: torch.Tensor
    spikes: torch.Tensor
    u_post: torch.Tensor


    def select(self, rows) -> "LayerTrace":
        """The same values for a subset of the batch (``rows``: a slice or index tensor)."""
        return LayerTrace(*(getattr(self, f.name)[rows] for f in fields(self)))


@dataclass
class Trace:
    """Forward values over a chunk of steps ``t0 .. t0+C-1``."""

    t0: int
    layers: list[LayerTrace]
    out: torch.Tensor  # readout o, (B, C, n_classes)


@dataclass
class Grads:
    """Gradients of one chunk of steps (the arithmetic's units) and backward intermediates."""

    w: list[torch.Tensor]
    w_out: torch.Tensor
    vth: torch.Tensor
    gain: torch.Tensor
    error: torch.Tensor  # readout error e, (B, C, K)
    delta: list[torch.Tensor]  # per LIF layer, (B, C, n)
    da: list[torch.Tensor]  # per LIF layer, (B, C, n): delta scaled by the gain


class Learner:
    """The online learner over one arithmetic.

    Parameters
    ----------
    cfg : Config
    arith : FloatArith or FixedArith
    params : Params, optional
        In the arithmetic's own units; defaults to ``arith.from_real(init_params(cfg))``.
    """

    def __init__(self, cfg, arith, params: Params | None = None):
        self.cfg = cfg
        self.ar = arith
        self.params = params if params is not None else arith.from_real(init_params(cfg))
        self.n_layers = len(cfg.hidden)

    # -- forward -------------------------------------------------------------------
    def forward(self, spikes: torch.Tensor, t0: int = 0, state: list | None = None) -> Trace:
        """Run steps ``t0 .. t0+C-1`` for spike frames ``spikes`` (B, C, n_in).

        ``state`` is the list of membranes (B, n) per layer, updated in place; ``None``
        starts from rest.
        """
        ar, p, net = self.ar, self.params, self.cfg.network
        b, c, _ = spikes.shape
        s = spikes.to(ar.dtype)
        if state is None:
            state = [None] * self.n_layers
        layers = []
        for l, w in enumerate(p.w):
            a = ar.matmul(s, w.T)
            if net.weight_centering:
                cur = ar.scale_gain(a, p.gain[l, t0:t0 + c].view(1, c, 1))
            else:
                cur = ar.acc_to_v(a)
            u_pre, s_out, u_post = lif_steps(ar, cur, p.vth[l, t0:t0 + c], state[l])
            state[l] = u_post[:, -1]
            layers.append(LayerTrace(s, a, cur, u_pre, s_out, u_post))
            s = s_out
        out = ar.acc_to_v(ar.matmul(s, p.w_out.T))
        return Trace(t0, layers, out)

    def infer(self, spikes: torch.Tensor) -> Trace:
        """Forward pass of a batch of samples over all T steps, no learning."""
        return self.forward(spikes, 0, None)

    def predict(self, spikes: torch.Tensor) -> torch.Tensor:
        """Predicted labels (B,): ``argmax sum_t o[t]``, lowest index on ties."""
        return prediction(self.infer(spikes).out)

    # -- backward ------------------------------------------------------------------
    def backward(self, tr: Trace, label: torch.Tensor) -> Grads:
        """Spatial-only backward of every step in ``tr`` (``label``: (B,) class indices).

        Returns the gradients summed over the chunk's steps (and batch); threshold and gain
        gradients are (L, T) with zeros outside the chunk.
        """
        ar, p, net = self.ar, self.params, self.cfg.network
        c = tr.out.shape[1]
        steps = slice(tr.t0, tr.t0 + c)
        err = ar.loss_grad(tr.out, label)
        g_out = ar.outer(err, tr.layers[-1].spikes)
        ds = ar.back(err, p.w_out)
        g_w = [None] * self.n_layers
        deltas = [None] * self.n_layers
        das = [None] * self.n_layers
        g_vth = torch.zeros(p.vth.shape, dtype=ar.acc_dtype)
        g_gain = torch.zeros(p.gain.shape, dtype=ar.acc_dtype)
        for l in reversed(range(self.n_layers)):
            lt = tr.layers[l]
            delta = ar.mul(ds, ar.surrogate(lt.u_pre - p.vth[l, steps].view(1, c, 1)))
            deltas[l] = delta
            g_vth[l, steps] = -delta.sum(dim=(0, 2))
            if net.weight_centering:
                g_gain[l, steps] = ar.dot(delta, lt.a)
                da = ar.mul(delta, p.gain[l, steps].view(1, c, 1))
            else:
                da = delta
            das[l] = da
            g_w[l] = ar.outer(da, lt.s_in)
            if l > 0:
                ds = ar.back(da, p.w[l])
        return Grads(g_w, g_out, g_vth, g_gain, err, deltas, das)

    # -- update --------------------------------------------------------------------
    def update(self, g: Grads, shifts: tuple[int, int, int]) -> None:
        """SGD step with learning rates ``2**-shift`` (weights, thresholds, gains)."""
        ar, p, net = self.ar, self.params, self.cfg.network
        sw, sth, sg = shifts
        p.w = [ar.update_weights(w, gw, sw, net.weight_centering) for w, gw in zip(p.w, g.w)]
        p.w_out = ar.update_weights(p.w_out, g.w_out, sw, False)
        if net.learn_threshold:
            p.vth = ar.update_threshold(p.vth, g.vth, sth)
        if net.weight_centering:
            p.gain = ar.update_gain(p.gain, g.gain, sg)

    def train_sample(self, spikes: torch.Tensor, label: int,
                     shifts: tuple[int, int, int]) -> tuple[Trace, Grads]:
        """Learn one sample (T, n_in) online; returns the forward trace (before the update)
        and the gradients. ``update = "step"`` updates after every step."""
        x = spikes.unsqueeze(0)
        y = torch.tensor([label])
        if self.cfg.network.update == "sample":
            tr = self.forward(x)
            g = self.backward(tr, y)
            self.update(g, shifts)
            return tr, g
        state: list = [None] * self.n_layers
        chunks, grads = [], None
        for t in range(self.cfg.timesteps):
            tr = self.forward(x[:, t:t + 1], t, state)
            grads = self.backward(tr, y)
            self.update(grads, shifts)
            chunks.append(tr)
        return concat_traces(chunks), grads


def lif_steps(ar, cur: torch.Tensor, vth: torch.Tensor, u: torch.Tensor | None):
    """The LIF recurrence over C steps in arithmetic ``ar``.

    ``cur`` (B, C, n) input currents, ``vth`` (C,) thresholds (a tensor; the arithmetic's
    ``reset`` receives each as a Python number), ``u`` (B, n) membranes after
    the previous step (None: at rest). Per step: ``u_pre = leak(u) + I``;
    ``s = u_pre >= vth``; ``u = reset(u_pre, s, vth)``. Returns ``u_pre``, spikes (in
    ``ar.dtype``) and ``u`` after reset, each (B, C, n).
    """
    cur_steps = cur.unbind(1)
    if u is None:
        u = torch.zeros_like(cur_steps[0])
    u_pre, spk, u_post = [], [], []
    for i_t, v in zip(cur_steps, vth.tolist()):  # thresholds as Python scalars: fewer ops
        up = ar.leak_integrate(u, i_t)
        fire = up >= v
        u = ar.reset(up, fire, v)
        u_pre.append(up)
        spk.append(fire)
        u_post.append(u)
    return torch.stack(u_pre, 1), torch.stack(spk, 1).to(ar.dtype), torch.stack(u_post, 1)


def prediction(out: torch.Tensor) -> torch.Tensor:
    """``argmax_k sum_t o[t, k]`` of readouts (B, C, K); the first maximum wins ties."""
    return out.sum(dim=1).argmax(dim=1)


def concat_traces(chunks: list[Trace]) -> Trace:
    """Join per-step traces into one trace over all their steps."""
    layers = []
    for l in range(len(chunks[0].layers)):
        parts = [c.layers[l] for c in chunks]
        layers.append(LayerTrace(*(torch.cat([getattr(p, f.name) for p in parts], 1)
                                   for f in fields(LayerTrace))))
    return replace(chunks[0], layers=layers, out=torch.cat([c.out for c in chunks], 1))
