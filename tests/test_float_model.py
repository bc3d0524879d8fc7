"""The float model: its LIF against snnTorch, its hand-written gradients against autograd."""

import pytest
import snntorch as snn  # a test dependency: the cross-check must never be skipped
import torch

from golden.float_model import FloatArith
from golden.learner import Learner, init_params, lif_steps
from rtl_gen.config import load_config


@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("leak", [0.5, 0.75, 0.875, 0.25])
def test_lif_matches_snntorch_leaky(reset, leak):
    cfg = load_config("tiny").replace(network={"leak": leak, "reset": reset})
    ar = FloatArith(cfg)
    vth = 0.6
    g = torch.Generator().manual_seed(11)
    steps, batch, n = 50, 4, 300
    # currents below (2 - leak) * vth keep the membrane under 2 vth after a reset, the range
    # where snnTorch's reset-from-previous-membrane bookkeeping equals a plain reset
    cur = (torch.rand(batch, steps, n, generator=g) * 1.3 - 0.4) * vth
    u_pre, spk, u_post = lif_steps(ar, cur, torch.full((steps,), vth), None)

    lif = snn.Leaky(beta=leak, threshold=vth, reset_delay=False,
                    reset_mechanism="subtract" if reset == "soft" else "zero")
    mem = torch.zeros(batch, n)
    ref_spk, ref_mem = [], []
    for t in range(steps):
        s, mem = lif(cur[:, t], mem)
        ref_spk.append(s)
        ref_mem.append(mem)
    ref_spk, ref_mem = torch.stack(ref_spk, 1), torch.stack(ref_mem, 1)
    # snnTorch fires on mem > thr, we on u >= vth: equality has probability zero here
    assert not (u_pre == vth).any()
    assert spk.sum() > 0.02 * spk.numel()  # the check is not vacuous
    assert torch.equal(spk, ref_spk)
    assert torch.equal(u_post, ref_mem)  # bit for bit: same float32 operations


class _Float64(FloatArith):
    dtype = torch.float64
    acc_dtype = torch.float64


class _SpikeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, width, triangle):
        ctx.save_for_backward(x)
        ctx.width, ctx.triangle = width, triangle
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.triangle:
            sg = (1 - x.abs() / ctx.width).clamp(min=0)
        else:
            sg = (x.abs() < ctx.width / 2).to(x.dtype)
        return grad * sg, None, None


def _autograd_grads(cfg, p, spikes, label):
    """SLTT gradients by autograd of SpikON's form: W_t = g[t] (W - mean(W)), membrane
    detached between steps, loss sum_t ||o[t] - y||^2 / 2 (or its squared-hinge form)."""
    net = cfg.network
    ws = [w.clone().requires_grad_() for w in p.w]
    w_out = p.w_out.clone().requires_grad_()
    vth = p.vth.clone().requires_grad_()
    gain = p.gain.clone().requires_grad_()
    y = torch.nn.functional.one_hot(torch.tensor(label), cfg.n_out).double() * net.target
    u = [torch.zeros(w.shape[0], dtype=torch.float64) for w in ws]
    loss = 0
    for t in range(cfg.timesteps):
        s = spikes[t].double()
        for l, w in enumerate(ws):
            if net.weight_centering:
                cur = gain[l, t] * ((w - w.mean(dim=1, keepdim=True)) @ s)
            else:
                cur = w @ s
            u_pre = net.leak * u[l].detach() + cur
            s = _SpikeFn.apply(u_pre - vth[l, t], net.surrogate_width,
                               net.surrogate == "triangle")
            u[l] = u_pre - s * vth[l, t] if net.reset == "soft" else u_pre * (1 - s)
        o = w_out @ s
        if net.loss == "hinge":  # squared hinge: only the wrong side of each target counts
            sign = 1 - 2 * torch.nn.functional.one_hot(torch.tensor(label), cfg.n_out).double()
            loss = loss + 0.5 * (torch.relu((o - y) * sign) ** 2).sum()
        else:
            loss = loss + 0.5 * ((o - y) ** 2).sum()
    loss.backward()
    return [w.grad for w in ws], w_out.grad, vth.grad, gain.grad


@pytest.mark.parametrize("centering", [True, False])
@pytest.mark.parametrize("layers, surrogate, reset, loss", [
    ((64, 40, 10), "triangle", "soft", "hinge"),
    ((64, 40, 10), "triangle", "soft", "mse"),
    ((64, 30, 20, 10), "rectangle", "hard", "mse"),
])
def test_manual_gradients_equal_autograd(centering, layers, surrogate, reset, loss):
    cfg = load_config("default").replace(
        network={"layers": list(layers), "weight_centering": centering, "surrogate": surrogate,
                 "reset": reset, "init_scale": 3.0, "surrogate_width": 1.0, "timesteps": 5,
                 "loss": loss})
    ar = _Float64(cfg)
    p = init_params(cfg)
    p.gain = p.gain + torch.linspace(-0.3, 0.3, cfg.timesteps)  # distinct per-step values
    learner = Learner(cfg, ar, p.clone())
    g = torch.Generator().manual_seed(5)
    checked = 0
    for k in range(4):
        spikes = (torch.rand(cfg.timesteps, cfg.n_in, generator=g) < 0.4).to(torch.uint8)
        label = k % cfg.n_out
        tr = learner.forward(spikes.unsqueeze(0))
        ours = learner.backward(tr, torch.tensor([label]))
        gw, gw_out, gvth, ggain = _autograd_grads(cfg, p, spikes, label)
        for l in range(len(gw)):
            mine = ours.w[l] - ours.w[l].mean(dim=1, keepdim=True) if centering else ours.w[l]
            # float64 sums in a different order: agreement to rounding, not bit equality
            torch.testing.assert_close(mine, gw[l], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(ours.w_out, gw_out, rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(ours.vth, gvth, rtol=1e-9, atol=1e-12)
        if centering:
            torch.testing.assert_close(ours.gain, ggain, rtol=1e-9, atol=1e-12)
        checked += int(any(float(w.abs().sum()) > 0 for w in gw))
    assert checked >= 3  # gradients flowed into the hidden layers
