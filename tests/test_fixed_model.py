"""The fixed model: each operation agrees with float within its stated rounding bound, whole
networks agree within the propagated bound (docs/fixed-point.md, 'Agreement with float'),
saturation holds at the edges, and runs are reproducible."""

import pytest
import torch

from golden.fixed_model import FixedArith
from golden.fixed_point import dequantize, hi, lo
from golden.float_model import FloatArith
from golden.learner import Learner
from rtl_gen.config import load_config


class F64(FloatArith):
    """Float reference in float64, so its own rounding is negligible next to the LSBs."""

    dtype = torch.float64
    acc_dtype = torch.float64


def _cfg(**network):
    return load_config("default").replace(network=network)


def _rand_int(g, shape, lo_, hi_):
    return torch.randint(lo_, hi_ + 1, shape, generator=g)


LEAKS = [0.5, 0.25, 0.75, 0.875]


@pytest.mark.parametrize("leak", LEAKS)
def test_each_operation_within_half_lsb(leak):
    cfg = _cfg(leak=leak, surrogate_width=2.0)
    fx, fl = FixedArith(cfg), F64(cfg)
    wf, vf = cfg.fixed.w_frac, cfg.fixed.v_frac
    lsb_v, lsb_w = 2.0**-vf, 2.0**-wf
    g = torch.Generator().manual_seed(int(leak * 1000))
    n = 4000
    rv = lambda q: dequantize(q, vf)  # noqa: E731
    rw = lambda q: dequantize(q, wf)  # noqa: E731
    a = _rand_int(g, (1, 8, n), -(2**15), 2**15)  # weight sums (scale w_frac)
    gain = _rand_int(g, (1, 8, 1), 0, 3 << vf)
    u = _rand_int(g, (n,), -(2**13), 2**13)
    x = _rand_int(g, (n,), -(2**12), 2**12)
    y = _rand_int(g, (n,), -(2**10), 2**10)

    def close(fixed_val, real_val, bound):
        err = (fixed_val - real_val).abs().max().item()
        assert err <= bound + 1e-12, err

    close(rv(fx.scale_gain(a, gain)), fl.scale_gain(rw(a), rv(gain)), lsb_v / 2)
    close(rv(fx.acc_to_v(a)), fl.acc_to_v(rw(a)), lsb_v / 2)
    close(rv(fx.leak_integrate(u, x)), fl.leak_integrate(rv(u), rv(x)), lsb_v / 2)
    u0 = u.clone()
    fx.leak_integrate(u, x)
    assert torch.equal(u, u0)  # the in-place chain leaves its input alone
    fire = x > 0
    close(rv(fx.reset(u, fire, torch.tensor(512))), fl.reset(rv(u), fire, 0.5), 0)
    close(rv(fx.surrogate(x)), fl.surrogate(rv(x)), lsb_v / 2)  # width 2: one rounding
    close(rv(fx.mul(x, y)), fl.mul(rv(x), rv(y)), lsb_v / 2)
    e = _rand_int(g, (3, 10), -(2**11), 2**11)
    w = _rand_int(g, (10, 128), -(2**13), 2**13)
    close(rv(fx.back(e, w)), fl.back(rv(e), rw(w)), lsb_v / 2)
    label = torch.tensor([1, 4, 9])
    close(rv(fx.loss_grad(e.view(3, 1, 10), label)), fl.loss_grad(rv(e.view(3, 1, 10)), label), 0)
    # updates: W - 2**-s G rounded once to the weight LSB (plus the mean's rounding, centered)
    G = _rand_int(g, (128, 64), -(2**13), 2**13)  # no saturation: tested on its own
    wq = _rand_int(g, (128, 64), -(2**13), 2**13)
    for s in (2, 5, 9):
        close(rw(fx.update_weights(wq, G, s, False)), fl.update_weights(rw(wq), rv(G), s, False),
              lsb_w / 2)
        mean_err = 0.5 + G.sum(1).abs().max().item() * abs(
            fx.recip[64] / 2**cfg.fixed.recip_bits - 1 / 64)
        close(rw(fx.update_weights(wq, G, s, True)), fl.update_weights(rw(wq), rv(G), s, True),
              lsb_w / 2 + 2.0**-s * mean_err * lsb_v)
        close(rv(fx.update_threshold(u, x, s)), fl.update_threshold(rv(u), rv(x), s), lsb_v / 2)
        dg = _rand_int(g, (8,), -(2**26), 2**26)  # scale v_frac + w_frac
        close(rv(fx.update_gain(u[:8], dg, s)),
              fl.update_gain(rv(u[:8]), dg.double() * 2.0 ** -(vf + wf), s), lsb_v / 2)


def _pair(cfg, seed=0):
    """A fixed learner and a float64 learner starting from exactly the same parameters."""
    fx = Learner(cfg, FixedArith(cfg))
    fx.params.gain = fx.params.gain + torch.arange(cfg.timesteps) * 37  # distinct per step
    real = FixedArith(cfg).to_real(fx.params)
    fl = Learner(cfg, F64(cfg), real.map(lambda t: t.clone()))
    return fx, fl


@pytest.mark.parametrize("leak", LEAKS)
@pytest.mark.parametrize("centering", [True, False])
def test_forward_agrees_within_propagated_bound(leak, centering):
    """Membrane error obeys e[t] <= leak e[t-1] + 1 LSB (current and leak roundings), so
    |u_fixed - u_float| <= LSB / (1 - leak) for every neuron until its spikes first differ,
    and they can only differ where the float membrane is within that bound of threshold."""
    cfg = _cfg(leak=leak, weight_centering=centering, init_scale=2.5,
               layers=[64, 96, 10], timesteps=12)
    fx, fl = _pair(cfg)
    lsb = 2.0**-cfg.fixed.v_frac
    bound = lsb / (1 - leak) + 1e-9
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(200, cfg.timesteps, cfg.n_in, generator=g) < 0.35).to(torch.uint8)
    tfx, tfl = fx.infer(x), fl.infer(x)
    ufx = dequantize(tfx.layers[0].u_pre, cfg.fixed.v_frac)
    ufl = tfl.layers[0].u_pre
    sfx, sfl = tfx.layers[0].spikes, tfl.layers[0].spikes.long()
    differ = sfx != sfl
    before = torch.cumsum(differ.long(), dim=1) == 0  # steps before a neuron's first flip
    first = differ & (torch.cumsum(differ.long(), dim=1) == 1)
    assert (ufx - ufl)[before].abs().max() <= bound
    vth = fl.params.vth[0].view(1, -1, 1).expand_as(ufl)
    assert ((ufl - vth)[first].abs() <= bound).all()
    assert sfl.float().mean() > 0.05 and differ.float().mean() < 0.01
    # readout: samples whose hidden spikes all agree give o within half an LSB
    same = ~differ.any(dim=2).any(dim=1)
    assert same.sum() > 50
    ofx = dequantize(tfx.out[same], cfg.fixed.v_frac)
    assert (ofx - tfl.out[same]).abs().max() <= lsb / 2 + 1e-9


@pytest.mark.parametrize("loss", ["mse", "hinge"])
@pytest.mark.parametrize("centering", [True, False])
def test_one_training_sample_agrees_within_propagated_bound(loss, centering):
    """After one online sample the fixed parameters equal the float ones within the bound
    obtained by propagating each operation's rounding (docs/fixed-point.md)."""
    cfg = _cfg(weight_centering=centering, loss=loss, init_scale=2.5, surrogate_width=1.0)
    f = cfg.fixed
    lsb_v, lsb_w = 2.0**-f.v_frac, 2.0**-f.w_frac
    beta = cfg.network.leak
    shifts = (5, 8, 10)
    g = torch.Generator().manual_seed(4)
    checked = 0
    for trial in range(30):
        fx, fl = _pair(cfg)
        p0 = fl.params.clone()
        x = (torch.rand(cfg.timesteps, cfg.n_in, generator=g) < 0.35).to(torch.uint8)
        label = trial % 10
        tfx, gfx = fx.train_sample(x, label, shifts)
        tfl, gfl = fl.train_sample(x, label, shifts)
        if not torch.equal(tfx.layers[0].spikes, tfl.layers[0].spikes.long()):
            continue  # a spike flipped (checked by the forward test); the bound needs equal spikes
        checked += 1
        s_in, s_h = tfl.layers[0].s_in[0], tfl.layers[0].spikes[0]  # (T, n)
        w_out, gain = p0.w_out, p0.gain[0]
        e_u = lsb_v / (1 - beta)
        e_e = torch.full((cfg.timesteps, cfg.n_out), lsb_v / 2, dtype=torch.float64)
        e_ds = e_e @ w_out.abs() + lsb_v / 2
        ds_fl = gfl.error[0] @ w_out
        h_fl = fl.ar.surrogate(tfl.layers[0].u_pre[0] - p0.vth[0].view(-1, 1))
        e_h = e_u / cfg.network.surrogate_width
        e_delta = ds_fl.abs() * e_h + h_fl.abs() * e_ds + e_ds * e_h + lsb_v / 2
        if centering:
            e_da = gain.abs().view(-1, 1) * e_delta + lsb_v / 2
        else:
            e_da = e_delta
        e_g = e_da.T @ s_in  # (n_hidden, n_in)
        b_w = e_g.clone()
        if centering:
            rowsum = gfl.w[0].abs().sum(1, keepdim=True)
            recip_err = abs(FixedArith(cfg).recip[64] / 2**f.recip_bits - 1 / 64)
            b_w = b_w + e_g.mean(1, keepdim=True) + rowsum * recip_err + lsb_v / 2
        b_w = 2.0 ** -shifts[0] * b_w + lsb_w / 2
        b_out = 2.0 ** -shifts[0] * (e_e.T @ s_h) + lsb_w / 2
        b_vth = 2.0 ** -shifts[1] * e_delta.sum(1) + lsb_v / 2
        new_fx = FixedArith(cfg).to_real(fx.params)
        new_fl = fl.params
        eps = 1e-9
        assert ((new_fx.w[0] - new_fl.w[0]).abs() <= b_w + eps).all()
        assert ((new_fx.w_out - new_fl.w_out).abs() <= b_out + eps).all()
        assert ((new_fx.vth[0] - new_fl.vth[0]).abs() <= b_vth + eps).all()
        if centering:
            a = tfl.layers[0].a[0].abs()
            b_g = 2.0 ** -shifts[2] * (e_delta * a).sum(1) + lsb_v / 2
            assert ((new_fx.gain[0] - new_fl.gain[0]).abs() <= b_g + eps).all()
        # the bound is informative: well below the size of the updates themselves
        moved = (new_fl.w[0] - p0.w[0]).abs()
        assert b_w[moved > 0].median() < 0.25 * moved[moved > 0].median()
    assert checked >= 10


def test_membrane_saturates_instead_of_wrapping():
    cfg = _cfg(weight_centering=False, threshold_init=7.0, leak=1.0)
    fx = Learner(cfg, FixedArith(cfg))
    fx.params.w[0].fill_(hi(cfg.fixed.w_bits))  # every weight at its maximum
    fx.params.vth.fill_(hi(cfg.fixed.v_bits))  # nothing fires, so the membrane only grows
    x = torch.ones(1, cfg.timesteps, cfg.n_in, dtype=torch.uint8)
    tr = fx.infer(x)
    top = hi(cfg.fixed.v_bits)
    assert (tr.layers[0].u_pre[:, -1] == top).all()
    assert (tr.layers[0].u_pre >= 0).all()  # never wrapped to negative
    fx.params.w[0].fill_(lo(cfg.fixed.w_bits))
    tr = fx.infer(x)
    assert (tr.layers[0].u_pre[:, -1] == lo(cfg.fixed.v_bits)).all()


def test_weight_updates_saturate():
    cfg = _cfg(weight_centering=False)
    ar = FixedArith(cfg)
    w = torch.tensor([[hi(16) - 1, lo(16) + 1]])
    huge = torch.tensor([[-(2**40), 2**40]])
    assert ar.update_weights(w, huge, 5, False).tolist() == [[hi(16), lo(16)]]


@pytest.mark.parametrize("model", ["fixed", "float"])
def test_training_is_reproducible(model):
    from golden import make_learner

    cfg = load_config("tiny")
    runs = []
    for _ in range(2):
        lr = make_learner(cfg, model)
        g = torch.Generator().manual_seed(2)
        for k in range(20):
            x = (torch.rand(cfg.timesteps, 64, generator=g) < 0.3).to(torch.uint8)
            lr.train_sample(x, k % 10, (5, 8, 10))
        runs.append(lr.params)
    assert runs[0].equal(runs[1])


def test_per_step_update_with_one_step_equals_per_sample():
    cfg = load_config("tiny").replace(network={"timesteps": 1})
    a = Learner(cfg, FixedArith(cfg))
    b = Learner(cfg.replace(network={"update": "step"}), FixedArith(cfg))
    g = torch.Generator().manual_seed(3)
    for k in range(10):
        x = (torch.rand(1, 64, generator=g) < 0.5).to(torch.uint8)
        a.train_sample(x, k % 10, (5, 8, 10))
        b.train_sample(x, k % 10, (5, 8, 10))
    assert a.params.equal(b.params)


def test_per_step_update_changes_weights_within_the_sample():
    cfg = load_config("tiny").replace(network={"update": "step", "init_scale": 3.0})
    lr = Learner(cfg, FixedArith(cfg))
    x = torch.ones(cfg.timesteps, 64, dtype=torch.uint8)
    tr, _ = lr.train_sample(x, 3, (5, 8, 10))
    assert tr.out.shape == (1, cfg.timesteps, 10)
    assert not lr.params.equal(Learner(cfg, FixedArith(cfg)).params)


def test_centering_reciprocal_is_rounded_constant():
    cfg = load_config("default")
    ar = FixedArith(cfg)
    assert ar.recip[64] == 2**cfg.fixed.recip_bits // 64
    ar3 = FixedArith(cfg.replace(network={"layers": [64, 100, 30, 10]}))
    assert ar3.recip == {64: 1024, 100: 655}  # round(2**16 / 100) = 655.36 -> 655
    assert abs(ar3.recip[100] / 2**16 - 1 / 100) <= 2**-17
