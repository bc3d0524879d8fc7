"""LIF unit: one neuron's membrane update, spike, reset and surrogate, per lane."""

from __future__ import annotations

import math

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .fixed_hw import rshr, sat

__all__ = ["LIFUnit"]


class LIFUnit(wiring.Component):
    """Combinational neuron update of docs/fixed-point.md, bit-exact with golden/fixed_model.

    Parameters
    ----------
    cfg : Config
        Formats (``fixed``), leak, reset, centering and surrogate (``network``).
    acc_bits : int
        Width of the weight-sum input.

    Members
    -------
    acc : In(signed(acc_bits))
        Weight sum ``a`` of the neuron this step (scale ``2**-w_frac``).
    gain : In(signed(v_bits))
        Centering gain of the layer this step (ignored when centering is off).
    u : In(signed(v_bits))
        Membrane after the previous step.
    rest : In(1)
        First step of a sample: the membrane is taken as 0 instead of ``u``.
    vth : In(signed(v_bits))
        Threshold of the layer this step.
    enable : In(1)
        The lane holds a real neuron (a padding lane never fires).
    current, u_pre, u_post, surrogate, readout : Out(signed(v_bits))
        ``I``; ``sat_v(leak(u) + I)``; the membrane after reset; ``h(u_pre - vth)``; and
        ``sat_v(rshr(a, w_frac - v_frac))`` (the value of a readout neuron).
    spike : Out(1)
        ``u_pre >= vth`` (and ``enable``).

    Cycle behaviour: with ``stages=1`` purely combinational (results valid in the cycle the
    inputs are). With ``stages=2`` a register after ``u_pre``: ``acc``, ``gain``, ``u`` and
    ``rest`` are taken in cycle ``c``; ``vth``, ``enable`` and every output except
    ``current`` belong to cycle ``c + 1``. With ``stages=3`` also a register after the
    product ``acc * gain`` (an FPGA multiplier's output register): the inputs are taken in
    cycle ``c``, ``current`` belongs to ``c + 1``, ``vth``, ``enable`` and the other outputs
    to ``c + 2``.
    """

    def __init__(self, cfg, acc_bits: int, stages: int = 1):
        if stages not in (1, 2, 3):
            self._MustUse__silence = True  # a rejected component is not an unused one
            raise ValueError(f"stages must be 1, 2 or 3, not {stages!r}")
        self.cfg = cfg
        self.stages = stages
        f = cfg.fixed
        self.vb = f.v_bits
        v = signed(f.v_bits)
        super().__init__({
            "acc": In(signed(acc_bits)), "gain": In(v), "u": In(v), "rest": In(1),
            "vth": In(v), "enable": In(1),
            "current": Out(v), "u_pre": Out(v), "spike": Out(1), "u_post": Out(v),
            "surrogate": Out(v), "readout": Out(v),
        })

    def elaborate(self, platform):
        m = Module()
        net, f = self.cfg.network, self.cfg.fixed
        vb, wf, vf = f.v_bits, f.w_frac, f.v_frac
        acc, u, rest = self.acc, self.u, self.rest
        prod = acc * self.gain if net.weight_centering else None
        if self.stages == 3:  # the product (and what goes with it) registered
            acc_r, u_r, rest_r = Signal.like(acc), Signal.like(u), Signal()
            m.d.sync += [acc_r.eq(acc), u_r.eq(u), rest_r.eq(rest)]
            if prod is not None:
                prod_r = Signal(signed(len(acc) + vb))
                m.d.sync += prod_r.eq(prod)
                prod = prod_r
            acc, u, rest = acc_r, u_r, rest_r
        # current
        if prod is not None:
            m.d.comb += self.current.eq(sat(rshr(prod, wf), vb))
        else:
            m.d.comb += self.current.eq(sat(rshr(acc, wf - vf), vb))
        stage = m.d.sync if self.stages >= 2 else m.d.comb
        stage += self.readout.eq(sat(rshr(acc, wf - vf), vb))
        # leak and integrate
        u = Mux(rest, 0, u)
        if net.leak == 1.0:
            leaked = u
        elif math.log2(net.leak).is_integer():
            leaked = rshr(u, int(-math.log2(net.leak)))
        else:
            leaked = u - rshr(u, int(-math.log2(1.0 - net.leak)))
        stage += self.u_pre.eq(sat(leaked + self.current, vb))
        # fire and reset
        m.d.comb += self.spike.eq(self.enable & (self.u_pre >= self.vth))
        if net.reset == "soft":
            m.d.comb += self.u_post.eq(Mux(self.spike, sat(self.u_pre - self.vth, vb), self.u_pre))
        else:
            m.d.comb += self.u_post.eq(Mux(self.spike, 0, self.u_pre))
        # surrogate of u_pre - vth, for the backward pass
        x = self.u_pre - self.vth
        ax = Mux(x < 0, -x, x)
        one = 1 << vf
        k = int(math.log2(net.surrogate_width))
        if net.surrogate == "triangle":
            if k <= 0:
                # one - (|x| << j), j = -k, clamped at 0, with one subtraction: x and
                # nx = -x side by side (two chains in parallel), and z = -|x| << j is x's
                # or nx's shift; one + z is in [0, one) exactly when z's bits from vf up
                # are all ones, and then it is z's bits below vf (no adder); x == 0
                # (neither x nor nx negative) gives one. (config: j < vf)
                j = -k
                nx = self.vth - self.u_pre
                neg_x, neg_nx = x < 0, nx < 0

                def tri_of(z):  # one + (z << j) for z < 0, clamped at 0
                    return Mux(z[vf - j:].all(), Cat(Const(0, j), z[:vf - j]), 0)

                m.d.comb += self.surrogate.eq(Mux(~neg_x & ~neg_nx, one,
                                                  Mux(neg_x, tri_of(x), tri_of(nx))))
            else:
                tri = one - rshr(ax, k)
                m.d.comb += self.surrogate.eq(Mux(tri < 0, 0, tri))
        else:
            m.d.comb += self.surrogate.eq(Mux(ax < (1 << (vf + k - 1)), one, 0))
        return m
