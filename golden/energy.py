"""Energy model: operation and memory-access counts per phase times a per-operation energy.

In the style of SATA (operation counts x energy per operation + memory accesses x energy per
access; docs/energy.md): the counts come from the same per-phase cycle structure as the timing
model (golden/timing.py), and each phase's cycle does what the engine in rtl_gen/engine.py and
rtl_gen/lif_unit.py does in that cycle:

=========  ===================================  ==============================================
phase      cycles (per layer and step)          what each cycle does (``L`` lanes)
=========  ===================================  ==============================================
fwd_load   2 (LOAD, START)                      threshold and gain read (LIF), frame read
                                                (first layer)
fwd_acc    ``events * G + 1`` (+1 idle if none)  one weight row: ``L`` weight reads,
                                                ``L`` accumulator read-add-writes
fwd_fire   ``G + fire_stages``                  one group: sums read and cleared, LIF of ``L``
                                                neurons (gain multiply, leak, integrate, fire,
                                                reset, surrogate), membranes read and written,
                                                ``h`` and ``a`` written, spike bits written;
                                                readout: ``o`` written
bwd_delta  ``1 + G + DELTA_STAGES``             one group: readout error, or ``delta = ds h``,
                                                ``da = g delta``, threshold and gain sums, row
                                                sum ``+= da * count``; ``da`` written
bwd_param  1 (BUPD)                             threshold and gain of (layer, step) updated
bwd_pass   ``n_in * nz`` (+2 drain if ``nz``)   one weight row times ``da``: ``L`` multiplies,
                                                an adder tree; ``ds`` written per input
upd_group  ``3 + touched`` per layer            per touched group: ``da`` of every step and
                                                the row sum read, the centering mean
upd_row    ``touched * n_in`` per layer         one weight row read, ``sum_t s[t] da[t]``,
                                                centred, shifted, written back
=========  ===================================  ==============================================

Counting rules (docs/energy.md): an operation or access counts once per lane in every cycle in
which the phase processes a group or a row (padding lanes included: the lanes run), at the
widths of the RTL's data path, for every layer of the kind that needs it (so a membrane read
at ``t = 0``, whose value the LIF unit then replaces by 0, counts; the LIF unit's outputs for a
readout group do not), whatever the operands' values (only the update's gradient tree counts
``T - 1`` of its ``max_timesteps - 1`` adders: the others' inputs stay zero). A memory access
counts the bits of the whole word the RTL reads or writes. Control (FSMs, event queues,
address arithmetic, loop and cycle counters), registers between pipeline stages, multiplexers,
saturation, shifters, the clock tree and leakage are not counted. The only data dependence
is the RTL's: the events of each layer-step (``fwd_acc``), the groups with a nonzero ``da``
(``bwd_pass``) and the touched groups (``upd_*``), which is why the counts depend only on
:class:`LayerLoad` aggregates of :class:`golden.timing.SampleCounts`.

Everything here is a pure function of the config, those counts and an :class:`EnergyTable`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Iterable, Sequence

import numpy as np

from rtl_gen.memory_map import MemoryMap

from .timing import (ACC_DRAIN, DELTA_STAGES, PASS_STAGES, UPDATE_OVERHEAD, SampleCounts,
                     forward_overhead)

__all__ = ["EnergyTable", "HOROWITZ_45NM", "Memory", "memories", "Widths", "widths",
           "LayerLoad", "layer_loads", "mean_loads", "loads_from_rtl", "PhaseActivity",
           "Activity", "activity", "ann_activity", "energy", "ann_cycles", "measure_energy",
           "PHASES", "FORWARD_PHASES"]

#: Phases of each engine, in the order they run.
PHASES = {"forward": ("fwd_load", "fwd_acc", "fwd_fire"),
          "backward": ("bwd_delta", "bwd_param", "bwd_pass"),
          "update": ("upd_group", "upd_row")}
FORWARD_PHASES = PHASES["forward"]


# ---- per-operation energies --------------------------------------------------------------

@dataclass(frozen=True)
class EnergyTable:
    """Energy per operation and per memory access, with the rules that scale them to any width
    and memory size. Replace it (``dataclasses.replace`` or a new instance) to use another
    technology's figures; every function here takes it as ``table``.

    * add (any adder, subtractor, comparator, rounding adder) of ``b`` bits:
      ``add_pj * b / add_bits`` (linear in the width);
    * multiplier of ``a`` x ``b`` bits: ``mult_pj * a * b / mult_bits**2`` (the partial-product
      array: quadratic in the width);
    * memory read of ``b`` bits from a bank of ``S`` bytes: ``b`` times the per-bit energy at
      ``S``, interpolated linearly in log(size)-log(energy) between the ``sram_pj`` points
      (pJ per ``sram_bits``-bit read at a size in bytes), extrapolated beyond them with the
      slope of the nearest segment; a write costs ``write_over_read`` times a read.

    The default (:data:`HOROWITZ_45NM`) holds M. Horowitz, "Computing's energy problem (and
    what we can do about it)", ISSCC 2014, 45 nm at 0.9 V: 32-bit integer add 0.1 pJ, 32-bit
    integer multiply 3.1 pJ, 64-bit SRAM read from 8 kB / 32 kB / 1 MB: 10 / 20 / 100 pJ.
    """

    name: str = "Horowitz ISSCC 2014, 45 nm, 0.9 V"
    add_pj: float = 0.1
    add_bits: int = 32
    mult_pj: float = 3.1
    mult_bits: int = 32
    sram_bits: int = 64
    sram_pj: tuple[tuple[float, float], ...] = ((8 * 1024, 10.0), (32 * 1024, 20.0),
                                                 (1024 * 1024, 100.0))
    write_over_read: float = 1.0

    def add(self, bits: float) -> float:
        """pJ of one ``bits``-bit addition."""
        return self.add_pj * bits / self.add_bits

    def mult(self, a: float, b: float) -> float:
        """pJ of one ``a`` x ``b``-bit multiplication."""
        return self.mult_pj * a * b / self.mult_bits ** 2

    def sram_bit(self, size_bytes: float) -> float:
        """pJ per bit read from a memory (one bank) of ``size_bytes`` bytes."""
        pts = sorted(self.sram_pj)
        if len(pts) == 1:
            return pts[0][1] / self.sram_bits
        x = math.log(max(size_bytes, 1e-9))
        xs = [math.log(s) for s, _ in pts]
        ys = [math.log(e / self.sram_bits) for _, e in pts]
        # the segment around x; below the first point the first, above the last the last
        i = max([0] + [j for j in range(len(pts) - 1) if xs[j] <= x])
        slope = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
        return math.exp(ys[i] + slope * (x - xs[i]))

    def read(self, bits: float, size_bytes: float) -> float:
        """pJ of reading ``bits`` bits from a bank of ``size_bytes`` bytes."""
        return bits * self.sram_bit(size_bytes)

    def write(self, bits: float, size_bytes: float) -> float:
        """pJ of writing ``bits`` bits into a bank of ``size_bytes`` bytes."""
        return self.write_over_read * self.read(bits, size_bytes)

    def as_dict(self) -> dict:
        """The table's fields (JSON-ready)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: M. Horowitz, ISSCC 2014, 45 nm, 0.9 V (see :class:`EnergyTable` and docs/energy.md).
HOROWITZ_45NM = EnergyTable()


# ---- widths and memories of the core -------------------------------------------------------

def _bits(n: int) -> int:
    """Bits of an index into ``n`` things (rtl_gen/engine.py's ``_bits``)."""
    return max(1, (n - 1).bit_length())


@dataclass(frozen=True)
class Widths:
    """Bit widths of the core's data path (as sized in rtl_gen/engine.py)."""

    w: int  # weight
    v: int  # membrane, threshold, gain, error, ds, h, delta, da
    acc: int  # exact weight sum a
    rowsum: int  # exact centering row sum
    dsum: int  # threshold-gradient sum
    gsum: int  # gain-gradient sum
    pacc: int  # W^T da accumulator of the PASS
    grad: int  # sum_t s[t] da[t] of the update row
    step: int  # the update step (grad - mean) before its shift
    recip: int  # the 1/fan_in constant of the mean
    count: int  # an input-event count
    frame: int  # a frame word (all inputs of a step)
    spike_vec: int  # a spike vector register (whole groups)
    tm: int  # steps the history words hold (hardware.max_timesteps)


def widths(cfg) -> Widths:
    """The data-path widths of ``cfg``'s core. ``acc`` equals rtl_gen.engine.acc_bits; the
    others are the widths of the signals of the same names in ``TrainingEngine.elaborate``."""
    f, h = cfg.fixed, cfg.hardware
    mm = MemoryMap.of(cfg)
    v, w, tm = f.v_bits, f.w_bits, h.max_timesteps
    acc = w + math.ceil(math.log2(h.max_width + 1))
    rowsum = v + math.ceil(math.log2(h.max_width * tm + 1)) + 1
    grad = v + _bits(tm) + 1
    return Widths(
        w=w, v=v, acc=acc, rowsum=rowsum,
        dsum=v + _bits(h.max_width + 1) + 1,
        gsum=v + acc + _bits(h.max_width + 1) + 1,
        pacc=v + w + _bits(h.lanes + 1) + _bits(mm.cap_groups + 1) + 1,
        grad=grad, step=max(grad, rowsum + 1) if cfg.network.weight_centering else grad,
        recip=f.recip_bits + 1, count=h.max_width.bit_length(), frame=32 * mm.frame_words,
        spike_vec=mm.spike_width, tm=tm)


@dataclass(frozen=True)
class Memory:
    """One memory of the core: ``banks`` banks of ``depth`` words of ``word_bits`` bits."""

    name: str
    word_bits: int
    depth: int
    banks: int

    @property
    def bank_bytes(self) -> float:
        """Size of one bank (what one access reads from) in bytes."""
        return self.word_bits * self.depth / 8


def _history_bits(cfg, wd) -> int:
    """A history word: the surrogate ``h``, and with centering the exact sum ``a``."""
    return wd.v + wd.acc if cfg.network.weight_centering else wd.v


def memories(cfg, ann: bool = False) -> dict[str, Memory]:
    """The memories of ``cfg``'s core (docs/architecture.md, 'Memories'); ``ann``: those of
    the same fabric running an ANN (one step, so the error word holds one value; multi-bit
    activations and inputs instead of spike histories; a wider accumulator)."""
    mm = MemoryMap.of(cfg)
    wd = widths(cfg)
    L, tm, nr, cg = mm.lanes, 1 if ann else wd.tm, mm.neuron_capacity, mm.cap_groups
    acc = wd.acc + wd.v if ann else wd.acc
    mems = [
        Memory("weights", wd.w, mm.weight_capacity, L),
        Memory("acc", acc, cg, L),
        Memory("errors", tm * wd.v, nr, L),
        Memory("ds", wd.v, cg, L),
        Memory("readout", wd.v, tm * cg, L),
    ]
    if ann:
        mems += [Memory("activations", wd.v, nr, L),
                 Memory("inputs", cfg.data.code_bits + 1, mm.max_width, 1)]
    else:
        mems += [
            Memory("membranes", wd.v, nr, L),
            Memory("history", _history_bits(cfg, wd), 2 * nr, L),
            Memory("rowsums", wd.rowsum, nr, L),
            Memory("thresholds", wd.v, max(mm.param_rows, 1), 1),
            Memory("gains", wd.v, max(mm.param_rows, 1), 1),
            # registers in the RTL, also the input layer's spike history
            Memory("frames", wd.frame, tm, 1),
            Memory("counts", wd.count, mm.max_layers * tm, 1),
            Memory("spikes", tm, max((mm.max_layers - 1) * cg, 1), L),
        ]
    return {m.name: m for m in mems}


# ---- the per-layer loads the counts depend on ---------------------------------------------

_LOAD_FIELDS = ("acc_inputs", "idle_steps", "nz_groups", "pass_steps", "touched")


@dataclass(frozen=True)
class LayerLoad:
    """What the counts of one weight layer depend on, summed over a run's steps.

    ``acc_inputs``: inputs the ACC phase visits (``sum_t events[l, t]``; dense ``n_in * T``);
    ``idle_steps``: steps with no input event (one idle ACC cycle each);
    ``nz_groups``: groups the PASS visits (``sum_t nz[l, t]``; 0 for the first layer, which has
    no PASS); ``pass_steps``: steps with a PASS; ``touched``: groups the update rewrites.
    Averages over samples are allowed (the counts are linear in these)."""

    acc_inputs: float = 0
    idle_steps: float = 0
    nz_groups: float = 0
    pass_steps: float = 0
    touched: float = 0

    def as_tuple(self) -> tuple:
        """The fields in order."""
        return tuple(getattr(self, k) for k in _LOAD_FIELDS)


def layer_loads(mm: MemoryMap, counts: SampleCounts, dense: bool = False) -> list[LayerLoad]:
    """Per-layer loads of one run from its :class:`golden.timing.SampleCounts` (``nz`` and
    ``touched`` None: an inference); ``dense``: every input, group and row (the ``dense``
    schedule)."""
    T, out = mm.timesteps, []
    train = counts.nz is not None
    for l in range(mm.n_weight_layers):
        n, G = mm.fan_in(l), mm.groups(l)
        ev = np.asarray(counts.events[l], dtype=np.int64)
        if dense:
            acc, idle = n * T, 0
        else:
            acc, idle = int(ev.sum()), int((ev == 0).sum())
        nzg = pst = tch = 0
        if train:
            nz = np.asarray(counts.nz[l], dtype=np.int64)
            if l >= 1:
                nzg, pst = (G * T, T) if dense else (int(nz.sum()), int((nz > 0).sum()))
            tch = G if dense else int(counts.touched[l])
        out.append(LayerLoad(acc, idle, nzg, pst, tch))
    return out


def mean_loads(runs: Iterable[Sequence[LayerLoad]]) -> list[LayerLoad]:
    """The per-layer average of several runs' loads."""
    arr = np.array([[ld.as_tuple() for ld in r] for r in runs], dtype=np.float64)
    return [LayerLoad(*(float(x) for x in row)) for row in arr.mean(0)]


def _unique_split(total: int, options: list[list[tuple[int, tuple]]], what: str) -> list:
    """The one choice of an option per layer whose costs sum to ``total`` (options are
    ``(cost, value)``); ValueError if there is none or more than one."""
    found: list[list] = []

    def walk(i: int, rest: int, chosen: list) -> None:
        if len(found) > 1:
            return
        if i == len(options):
            if rest == 0:
                found.append(list(chosen))
            return
        for cost, val in options[i]:
            if cost <= rest:
                walk(i + 1, rest - cost, chosen + [val])

    walk(0, total, [])
    if not found:
        raise ValueError(f"no {what} explains {total} cycles")
    if len(found) > 1:
        raise ValueError(f"{what}: {total} cycles have several decompositions, e.g. {found[0]} "
                         f"and {found[1]}")
    return found[0]


def loads_from_rtl(mm: MemoryMap, counters: dict, events, *, train: bool = True,
                   dense: bool = False) -> list[LayerLoad]:
    """Per-layer loads from what the RTL reports for a run: its four cycle counters
    (``total``, ``forward``, ``backward``, ``update``) and its input-event counts
    ``events[l, t]`` (the COUNTS memory).

    The forward counter must equal the per-phase cycles the events imply (else ValueError);
    the backward counter minus its data-independent cycles (``T * sum(G + 2 + DELTA_STAGES)``)
    is split into each PASS layer's ``n_in * nz + PASS_STAGES * (steps with nz > 0)`` and the update counter
    minus ``UPDATE_OVERHEAD`` per layer into ``touched * (1 + n_in)`` per layer, by searching every
    admissible value; ValueError if the split is not unique (it is whenever there is one PASS
    layer with ``T < n_in`` and the update's per-layer costs cannot be traded, as in every
    preset). ``dense``: the core ran the ``dense`` schedule (every input, group and row).
    """
    T, K = mm.timesteps, mm.n_weight_layers
    ev = np.asarray(events, dtype=np.int64).reshape(K, T)
    acc, idle = [], []
    fwd = 0
    for l in range(K):
        n, G = mm.fan_in(l), mm.groups(l)
        a, i = (n * T, 0) if dense else (int(ev[l].sum()), int((ev[l] == 0).sum()))
        acc.append(a)
        idle.append(i)
        fwd += T * forward_overhead(G, mm.fire_stages) + a * G + i
    if fwd != counters["forward"]:
        raise ValueError(f"forward counter {counters['forward']} != {fwd}, the cycles the "
                         f"event counts {ev.tolist()} imply")
    if not train:
        if counters["backward"] or counters["update"]:
            raise ValueError(f"an inference with backward/update cycles: {counters}")
        return [LayerLoad(a, i) for a, i in zip(acc, idle)]
    bwd = counters["backward"] - T * sum(mm.groups(l) + 2 + DELTA_STAGES for l in range(K))
    opts = []
    for l in range(1, K):
        n, G = mm.fan_in(l), mm.groups(l)
        if dense:
            opts.append([(n * G * T + PASS_STAGES * T, (G * T, T))])
        else:
            opts.append([(n * z + PASS_STAGES * p, (z, p)) for p in range(T + 1)
                         for z in ([0] if p == 0 else range(p, p * G + 1))])
    passes = [(0, 0)] + _unique_split(bwd, opts, "PASS split of the backward counter")
    upd = counters["update"] - UPDATE_OVERHEAD * K
    opts = [[((1 + mm.fan_in(l)) * t, t) for t in
             ([mm.groups(l)] if dense else range(mm.groups(l) + 1))] for l in range(K)]
    touched = _unique_split(upd, opts, "touched-group split of the update counter")
    return [LayerLoad(acc[l], idle[l], passes[l][0], passes[l][1], touched[l])
            for l in range(K)]


# ---- activity: what each phase does -------------------------------------------------------

@dataclass
class PhaseActivity:
    """Cycles, operations and memory accesses of one phase.

    ``ops``: ``("add", bits)`` or ``("mult", a_bits, b_bits)`` -> count; ``reads`` and
    ``writes``: memory name -> ``[accesses, bits]`` (an access is one word of one bank)."""

    cycles: float = 0
    ops: dict = field(default_factory=dict)
    reads: dict = field(default_factory=dict)
    writes: dict = field(default_factory=dict)

    def add(self, n: float, bits: int) -> None:
        """``n`` additions of ``bits`` bits."""
        if n:
            k = ("add", bits)
            self.ops[k] = self.ops.get(k, 0) + n

    def mult(self, n: float, a: int, b: int) -> None:
        """``n`` multiplications of ``a`` x ``b`` bits."""
        if n:
            k = ("mult", *sorted((a, b)))
            self.ops[k] = self.ops.get(k, 0) + n

    def read(self, mem: str, n: float, bits: int) -> None:
        """``n`` reads of ``bits``-bit words from ``mem``."""
        self._access(self.reads, mem, n, bits)

    def write(self, mem: str, n: float, bits: int) -> None:
        """``n`` writes of ``bits``-bit words into ``mem``."""
        self._access(self.writes, mem, n, bits)

    @staticmethod
    def _access(d: dict, mem: str, n: float, bits: int) -> None:
        if n:
            a = d.setdefault(mem, [0, 0])
            a[0] += n
            a[1] += n * bits

    def as_dict(self) -> dict:
        """JSON-ready: ops keyed ``add16`` / ``mult16x24``, accesses and bits per memory."""
        return {"cycles": self.cycles,
                "ops": {(f"add{k[1]}" if k[0] == "add" else f"mult{k[1]}x{k[2]}"): v
                        for k, v in sorted(self.ops.items())},
                "reads": {m: {"accesses": a, "bits": b} for m, (a, b) in self.reads.items()},
                "writes": {m: {"accesses": a, "bits": b} for m, (a, b) in self.writes.items()}}


@dataclass
class Activity:
    """Operation and memory-access counts of one run, per phase (:data:`PHASES`), with the
    memories they refer to."""

    phases: dict[str, PhaseActivity]
    memories: dict[str, Memory]

    def engine_cycles(self) -> dict[str, float]:
        """Cycles each engine is busy (what the RTL's forward/backward/update counters count)."""
        return {e: sum(self.phases[p].cycles for p in ps if p in self.phases)
                for e, ps in PHASES.items()}

    def as_dict(self) -> dict:
        """JSON-ready counts per phase."""
        return {p: a.as_dict() for p, a in self.phases.items()}


def _new_phases(train: bool) -> dict[str, PhaseActivity]:
    names = [p for e, ps in PHASES.items() if train or e == "forward" for p in ps]
    return {p: PhaseActivity() for p in names}


def _lif_ops(p: PhaseActivity, n: float, cfg, wd: Widths) -> None:
    """The LIF unit's arithmetic (rtl_gen/lif_unit.py) for ``n`` neuron updates."""
    net, f = cfg.network, cfg.fixed
    v = wd.v
    if net.weight_centering:  # I = sat(rshr(a * g, w_frac))
        p.mult(n, wd.acc, v)
        p.add(n, wd.acc + v)
    elif f.w_frac > f.v_frac:  # I = sat(rshr(a, w_frac - v_frac))
        p.add(n, wd.acc)
    if net.leak != 1.0:  # rshr(u, a), or u - rshr(u, a)
        p.add(n * (1 if math.log2(net.leak).is_integer() else 2), v)
    p.add(n, v)  # u_pre = leak(u) + I
    p.add(n, v)  # u_pre - vth: the spike (its sign), the soft reset and the surrogate's x
    p.add(n, v)  # |x|
    k = int(math.log2(net.surrogate_width))
    if net.surrogate == "triangle":
        if k > 0:
            p.add(n, v)  # rshr(|x|, k)
        p.add(n, v)  # ONE - dist
    else:
        p.add(n, v)  # |x| < 2**(v_frac + k - 1)


def activity(cfg, loads: Sequence[LayerLoad], train: bool = True) -> Activity:
    """Counts of one run of ``cfg``'s core (a training sample, or with ``train=False`` an
    inference) whose layers have ``loads`` (:func:`layer_loads`, :func:`loads_from_rtl`,
    :func:`mean_loads`). The phases' cycles sum to the engine counters of
    :func:`golden.timing.train_timing` / ``infer_timing``."""
    mm = MemoryMap.of(cfg)
    wd = widths(cfg)
    net, f = cfg.network, cfg.fixed
    L, T, K, v = mm.lanes, mm.timesteps, mm.n_weight_layers, wd.v
    centering, learn_th = net.weight_centering, net.learn_threshold
    ph = _new_phases(train)
    for l, ld in enumerate(loads):
        n, G = mm.fan_in(l), mm.groups(l)
        lif = l < K - 1
        # LOAD, START
        p = ph["fwd_load"]
        p.cycles += 2 * T
        if l == 0:
            p.read("frames", T, wd.frame)
        if lif:
            p.read("thresholds", T, v)
            if centering:
                p.read("gains", T, v)
        # ACC: one weight row (input, group) a cycle
        p = ph["fwd_acc"]
        rows = ld.acc_inputs * G
        p.cycles += rows + ld.idle_steps + T * ACC_DRAIN
        p.read("weights", rows * L, wd.w)
        p.read("acc", rows * L, wd.acc)
        p.add(rows * L, wd.acc)
        p.write("acc", rows * L, wd.acc)
        # FIRE and its pipeline drain: one group a cycle
        p = ph["fwd_fire"]
        p.cycles += T * (G + cfg.hardware.fire_stages)
        N = T * G * L
        p.read("acc", N, wd.acc)
        p.write("acc", N, wd.acc)  # cleared for the next layer-step
        p.write("counts", T, wd.count)
        if lif:
            p.read("membranes", N, v)
            _lif_ops(p, N, cfg, wd)
            p.write("membranes", N, v)
            p.write("history", N, _history_bits(cfg, wd))  # surrogate h (and the sum a)
            p.write("spikes", N, 1)  # bit t of each lane's spike-history word
        else:
            if f.w_frac > f.v_frac:
                p.add(N, wd.acc)  # o = sat(rshr(a, w_frac - v_frac))
            p.write("readout", N, v)
        if not train:
            continue
        # BSTART, DELTA and its drain: one group a cycle
        p = ph["bwd_delta"]
        p.cycles += T * (1 + G + DELTA_STAGES)
        if not lif:
            p.read("readout", N, v)
            p.add(N, v)  # e = o - target (the hinge's choice is a sign test)
            p.write("errors", N, v)
        else:
            if learn_th:
                p.read("thresholds", T, v)
            if centering:
                p.read("gains", T, v)
                p.read("counts", T, wd.count)
            p.read("ds", N, v)
            p.read("history", N, _history_bits(cfg, wd))
            p.mult(N, v, v)  # delta = sat(rshr(ds * h, v_frac))
            p.add(N, 2 * v)
            if learn_th:
                p.add(N, wd.dsum)  # sum delta (an adder tree over the lanes, then the sum)
            if centering:
                p.mult(N, v, wd.acc)  # sum delta * a
                p.add(N, wd.gsum)
                p.mult(N, v, v)  # da = sat(rshr(g * delta, v_frac))
                p.add(N, 2 * v)
                p.read("rowsums", N, wd.rowsum)
                p.mult(N, v, wd.count)  # row sum += da * count
                p.add(N, wd.rowsum)
                p.write("rowsums", N, wd.rowsum)
            p.write("errors", N, v)
        # BUPD: threshold and gain of the layer-step
        p = ph["bwd_param"]
        p.cycles += T
        if lif:
            if learn_th:  # vth - rshr(-sum delta, shift)
                p.add(2 * T, wd.dsum)
                p.add(T, v)
                p.write("thresholds", T, v)
            if centering:  # g - rshr(sum delta a, shift)
                p.add(T, wd.gsum)
                p.add(T, v)
                p.write("gains", T, v)
        # PASS: ds = W^T da over the listed groups, one weight row a cycle
        p = ph["bwd_pass"]
        rows = n * ld.nz_groups
        p.cycles += rows + PASS_STAGES * ld.pass_steps
        if l >= 1:
            R = rows * L
            p.read("weights", R, wd.w)
            p.read("errors", R, wd.tm * v)
            p.mult(R, v, wd.w)
            p.add(R, wd.pacc)  # the lanes' adder tree and the accumulator
            p.add(n * ld.pass_steps, wd.pacc)  # rshr(sum, w_frac) of each input's ds
            p.write("ds", n * ld.pass_steps, v)
        # update: set-up of each touched group, then its weight rows
        p = ph["upd_group"]
        p.cycles += UPDATE_OVERHEAD + ld.touched
        g = ld.touched * L
        p.read("errors", g, wd.tm * v)
        if lif and centering:
            p.read("rowsums", g, wd.rowsum)
            p.mult(g, wd.rowsum, wd.recip)  # mean = rshr(rowsum * R, recip_bits)
            p.add(g, wd.rowsum + wd.recip)
            p.write("rowsums", g, wd.rowsum)  # cleared for the next sample
        p = ph["upd_row"]
        rows = ld.touched * n
        p.cycles += rows
        R = rows * L
        p.read("weights", R, wd.w)
        p.read("frames" if l == 0 else "spikes", rows, wd.tm)
        p.add(R * (T - 1), wd.grad)  # sum_t s[t] da[t]
        if lif and centering:
            p.add(R, wd.step)  # grad - mean
        p.add(R, wd.step)  # rshr(., shift)
        p.add(R, wd.w)  # w - step
        p.write("weights", R, wd.w)
    return Activity(ph, memories(cfg))


def ann_activity(cfg, train: bool = True) -> Activity:
    """Counts of one sample of an ANN of the same shape on the same fabric: one pass (no time
    steps), dense multi-bit activations (inputs: the ``code_bits + 1``-bit intensity levels;
    hidden: ReLU outputs in ``v_bits``), so every input does a multiply-accumulate; no
    thresholds, gains or centering; a dense backward (every group in the PASS) and update
    (every row: ``W -= da x^T``, a multiply per weight). Assumptions: docs/energy.md."""
    mm = MemoryMap.of(cfg)
    wd = widths(cfg)
    L, K, v = mm.lanes, mm.n_weight_layers, wd.v
    acc = wd.acc + v
    a_in = cfg.data.code_bits + 1
    ph = _new_phases(train)
    for l in range(K):
        n, G = mm.fan_in(l), mm.groups(l)
        lif = l < K - 1
        src, a_bits = ("inputs", a_in) if l == 0 else ("activations", v)
        ph["fwd_load"].cycles += 2
        p = ph["fwd_acc"]
        rows = n * G
        p.cycles += rows + ACC_DRAIN
        R = rows * L
        p.read(src, n, a_bits)  # each input's activation, held over its groups
        p.read("weights", R, wd.w)
        p.read("acc", R, acc)
        p.mult(R, a_bits, wd.w)
        p.add(R, acc)
        p.write("acc", R, acc)
        p = ph["fwd_fire"]
        p.cycles += G + cfg.hardware.fire_stages
        N = G * L
        p.read("acc", N, acc)
        p.write("acc", N, acc)
        p.add(N, acc)  # back to v_bits by a rounding shift; ReLU is a sign test
        p.write("activations" if lif else "readout", N, v)
        if not train:
            continue
        p = ph["bwd_delta"]
        p.cycles += 1 + G + DELTA_STAGES
        if not lif:
            p.read("readout", N, v)
            p.add(N, v)
        else:  # delta = ds if the activation is positive: a multiplexer
            p.read("ds", N, v)
            p.read("activations", N, v)
        p.write("errors", N, v)
        ph["bwd_param"].cycles += 1
        p = ph["bwd_pass"]
        if l >= 1:
            rows = n * G
            p.cycles += rows + 1
            R = rows * L
            p.read("weights", R, wd.w)
            p.read("errors", R, v)
            p.mult(R, v, wd.w)
            p.add(R, wd.pacc)
            p.add(n, wd.pacc)
            p.write("ds", n, v)
        p = ph["upd_group"]
        p.cycles += UPDATE_OVERHEAD + G
        p.read("errors", N, v)
        p = ph["upd_row"]
        rows = n * G
        p.cycles += rows
        R = rows * L
        p.read(src, rows, a_bits)
        p.read("weights", R, wd.w)
        p.mult(R, v, a_bits)  # da * x
        p.add(R, v + a_bits)  # rshr(., shift)
        p.add(R, wd.w)  # w - step
        p.write("weights", R, wd.w)
    return Activity(ph, memories(cfg, ann=True))


def ann_cycles(act: Activity, train: bool = True) -> float:
    """Cycles of an ANN run (:func:`ann_activity`) under the serial scheduler: a stage per
    engine (one cycle to start plus the engine) and a final cycle."""
    e = act.engine_cycles()
    if not train:
        return 1 + e["forward"] + 1
    return sum(1 + e[k] for k in ("forward", "backward", "update")) + 1


# ---- energy ---------------------------------------------------------------------------------

def energy(act: Activity, table: EnergyTable = HOROWITZ_45NM) -> dict:
    """pJ of a run from its :class:`Activity`: ``pj`` (total), ``compute_pj``, ``memory_pj``,
    ``phases`` and ``engines`` (pJ each), ``by_memory`` (pJ of each memory's reads and
    writes) and ``by_op`` (pJ of adds and of multiplies)."""
    out = {"pj": 0.0, "compute_pj": 0.0, "memory_pj": 0.0, "phases": {}, "engines": {},
           "by_memory": {}, "by_op": {"add": 0.0, "mult": 0.0}}
    for name, p in act.phases.items():
        e = 0.0
        for k, n in p.ops.items():
            pj = n * (table.add(k[1]) if k[0] == "add" else table.mult(k[1], k[2]))
            out["by_op"][k[0]] += pj
            out["compute_pj"] += pj
            e += pj
        for d, cost in ((p.reads, table.read), (p.writes, table.write)):
            for mem, (_, bits) in d.items():
                pj = cost(bits, act.memories[mem].bank_bytes)
                out["by_memory"][mem] = out["by_memory"].get(mem, 0.0) + pj
                out["memory_pj"] += pj
                e += pj
        out["phases"][name] = e
        out["pj"] += e
    out["engines"] = {eng: sum(out["phases"].get(p, 0.0) for p in ps)
                      for eng, ps in PHASES.items()}
    return out


def _summary(act: Activity, cycles: float, clock_mhz: float, table: EnergyTable,
             counts: bool = True) -> dict:
    e = energy(act, table)
    seconds = cycles / (clock_mhz * 1e6)
    tot = e["pj"] or 1.0
    out = {"pj": e["pj"], "cycles": cycles, "seconds": seconds, "edp_pj_s": e["pj"] * seconds,
           "compute_pj": e["compute_pj"], "memory_pj": e["memory_pj"],
           "engines_pj": e["engines"], "phases_pj": e["phases"],
           "phase_share": {k: x / tot for k, x in e["phases"].items()},
           "memory_pj_by_memory": e["by_memory"], "op_pj": e["by_op"],
           "engine_cycles": act.engine_cycles()}
    if counts:
        out["activity"] = act.as_dict()
    return out


def measure_energy(cfg, samples: int = 500, inferences: int | None = None,
                   table: EnergyTable = HOROWITZ_45NM, fmax_mhz: float | None = None) -> dict:
    """Energy of ``cfg``'s core on digits: the fixed learner trains the first ``samples``
    training samples (the stream every trainer uses), then infers ``inferences`` test samples
    (default as many, at most the test set); each run's counts go through the timing and
    energy models and are averaged.

    Returns a dict (``bench/results/energy.json`` holds one per config): ``config``,
    ``layers``, ``timesteps``, ``lanes``, ``schedule`` (whose cycles the delay uses; a
    ``dense`` config's event-driven figures use ``serial``), ``clock_mhz`` (``fmax_mhz`` or the
    config's), ``samples``, ``inferences``, ``energy_table``; the headline figures
    ``train_pj`` / ``infer_pj`` (pJ per training sample / inference), ``train_cycles``,
    ``infer_cycles``, ``train_edp_pj_s`` / ``infer_edp_pj_s`` (energy x delay), ``ann_train_pj``,
    ``ann_infer_pj``, ``snn_over_ann`` / ``snn_over_ann_infer`` (SNN / ANN energy),
    ``dense_train_pj``, ``dense_infer_pj``, ``dense_over_event`` / ``dense_over_event_infer``
    (dense / event-driven energy), ``train_pj_by_engine``, ``train_pj_by_phase``,
    ``train_share_by_phase``, ``infer_pj_by_phase``, ``train_pj_by_memory``, ``spike_rate``
    (input spike rate of each weight layer); and ``detail``: for ``snn``, ``dense`` and ``ann``,
    ``train`` and ``infer`` summaries (pJ, cycles, EDP, pJ per engine, phase, memory and op
    kind; for ``snn`` also ``activity``: the mean per-phase counts of
    :meth:`Activity.as_dict`).
    """
    from golden.data import load_dataset
    from golden.fixed_model import fixed_learner
    from golden.timing import infer_timing, input_event_counts, sample_counts, train_timing
    from golden.train import TEST_STREAM, encode_split, epoch_samples, layer_names

    if samples < 1:
        raise ValueError(f"samples must be at least 1, not {samples}")
    mm = MemoryMap.of(cfg)
    clock = fmax_mhz or cfg.hardware.clock_mhz
    sched = cfg.hardware.schedule if cfg.hardware.schedule != "dense" else "serial"
    data = load_dataset(cfg)
    learner = fixed_learner(cfg)
    K, T = mm.n_weight_layers, mm.timesteps
    runs, dense_runs = [], []
    cyc = {"snn": 0.0, "dense": 0.0}
    events = np.zeros(K)
    done = 0
    epochs = max(1, math.ceil(samples / len(data.train_y)))
    for _, frames, labels, shifts in epoch_samples(cfg, data, epochs):
        for i in range(min(len(labels), samples - done)):
            tr, g = learner.train_sample(frames[i], int(labels[i]), shifts)
            c = sample_counts(mm, frames[i], tr, g)
            runs.append(layer_loads(mm, c))
            dense_runs.append(layer_loads(mm, c, dense=True))
            cyc["snn"] += train_timing(mm, c, sched).cycles
            cyc["dense"] += train_timing(mm, c, "dense").cycles
            events += c.events.sum(1)
            done += 1
    n_inf = min(samples if inferences is None else inferences, len(data.test_y))
    inf_runs, inf_dense_runs = [], []
    icyc = {"snn": 0.0, "dense": 0.0}
    if n_inf:
        test = encode_split(cfg, data.test_x[:n_inf], TEST_STREAM)
        trace = learner.infer(test)
        for i in range(n_inf):
            c = SampleCounts(input_event_counts(test[i], trace, i))
            inf_runs.append(layer_loads(mm, c))
            inf_dense_runs.append(layer_loads(mm, c, dense=True))
            icyc["snn"] += infer_timing(mm, c.events).cycles
            icyc["dense"] += infer_timing(mm, c.events, dense=True).cycles
    det = {"snn": {}, "dense": {}, "ann": {}}
    for key, tr_runs, inf_r in (("snn", runs, inf_runs), ("dense", dense_runs, inf_dense_runs)):
        det[key]["train"] = _summary(activity(cfg, mean_loads(tr_runs)), cyc[key] / done,
                                     clock, table, key == "snn")
        if n_inf:
            det[key]["infer"] = _summary(activity(cfg, mean_loads(inf_r), train=False),
                                         icyc[key] / n_inf, clock, table, key == "snn")
    for train in (True, False):
        a = ann_activity(cfg, train)
        det["ann"]["train" if train else "infer"] = _summary(a, ann_cycles(a, train), clock,
                                                             table, False)
    snn, dense, ann = det["snn"], det["dense"], det["ann"]
    inf = snn.get("infer", {})

    def ratio(a: dict, b: dict, k: str):
        return a[k]["pj"] / b[k]["pj"] if k in a and k in b else None

    return {
        "config": cfg.name, "layers": list(cfg.network.layers), "timesteps": T,
        "lanes": mm.lanes, "schedule": sched, "clock_mhz": clock, "samples": done,
        "inferences": n_inf, "energy_table": table.name,
        "train_pj": snn["train"]["pj"], "infer_pj": inf.get("pj"),
        "train_cycles": snn["train"]["cycles"], "infer_cycles": inf.get("cycles"),
        "train_edp_pj_s": snn["train"]["edp_pj_s"], "infer_edp_pj_s": inf.get("edp_pj_s"),
        "ann_train_pj": ann["train"]["pj"], "ann_infer_pj": ann["infer"]["pj"],
        "snn_over_ann": ratio(snn, ann, "train"), "snn_over_ann_infer": ratio(snn, ann, "infer"),
        "dense_train_pj": dense["train"]["pj"], "dense_infer_pj": dense.get("infer", {}).get("pj"),
        "dense_over_event": ratio(dense, snn, "train"),
        "dense_over_event_infer": ratio(dense, snn, "infer"),
        "train_pj_by_engine": snn["train"]["engines_pj"],
        "train_pj_by_phase": snn["train"]["phases_pj"],
        "train_share_by_phase": snn["train"]["phase_share"],
        "infer_pj_by_phase": inf.get("phases_pj", {}),
        "train_pj_by_memory": snn["train"]["memory_pj_by_memory"],
        "spike_rate": {nm: float(events[l] / (done * T * mm.fan_in(l)))
                       for l, nm in enumerate(layer_names(cfg))},
        "detail": det,
    }
