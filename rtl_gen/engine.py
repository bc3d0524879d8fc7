"""Training engine: memories, forward, backward and update engines, and their scheduler."""

from __future__ import annotations

import math
from types import SimpleNamespace

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from golden.timing import DELTA_STAGES, PASS_STAGES, run_cycle_bound

from .event_queue import EventQueue
from .fixed_hw import (at_most, round_half, rshr, sat, sat_sub, shift_for_round,
                       thermometer)
from .isa import WORDS_PER_LAYER, program_depth
from .lif_unit import LIFUnit
from .memory_map import CYCLE_COUNTERS, MemoryMap
from .protocol import Mem

__all__ = ["TrainingEngine", "obs_layout", "acc_bits", "host_depths"]


def host_depths(cfg) -> dict[int, int]:
    """Words of each host-visible memory of the core of ``cfg``."""
    mm = MemoryMap.of(cfg)
    return {Mem.WEIGHTS: mm.weight_capacity * mm.lanes, Mem.THRESHOLDS: mm.param_rows,
            Mem.GAINS: mm.param_rows, Mem.FRAMES: mm.max_timesteps * mm.frame_words,
            Mem.PROGRAM: program_depth(mm.max_layers),
            Mem.READOUT: mm.readout_capacity * mm.lanes,
            Mem.COUNTS: mm.max_layers * mm.max_timesteps, Mem.CYCLES: len(CYCLE_COUNTERS)}


def acc_bits(cfg) -> int:
    """Width of an exact weight sum: ``w_bits + ceil(log2(max_width + 1))``."""
    return cfg.fixed.w_bits + math.ceil(math.log2(cfg.hardware.max_width + 1))


def obs_layout(cfg) -> data.StructLayout:
    """What the forward engine reports for each group it fires (the testbench's view)."""
    mm = MemoryMap.of(cfg)
    v = signed(cfg.fixed.v_bits)
    lanes = cfg.hardware.lanes
    return data.StructLayout({
        "cycle": unsigned(32),
        "t": unsigned(8),
        "layer": unsigned(4),
        "group": unsigned(_bits(mm.cap_groups)),
        "spike": unsigned(lanes),
        "u_pre": data.ArrayLayout(v, lanes),
        "u_post": data.ArrayLayout(v, lanes),
        "value": data.ArrayLayout(v, lanes),  # readout o (readout layer) or surrogate h
    })


def _bits(n: int) -> int:
    """Bits of an index into ``n`` things."""
    return max(1, (n - 1).bit_length())


def _tree_sum(xs):
    xs = list(xs)
    while len(xs) > 1:
        xs = [xs[i] + xs[i + 1] if i + 1 < len(xs) else xs[i] for i in range(0, len(xs), 2)]
    return xs[0]


class TrainingEngine(wiring.Component):
    """Runs inference and online training of one sample at a time, bit-exact with
    golden/fixed_model.py and cycle-exact with golden/timing.py.

    Parameters
    ----------
    cfg : Config
        The hardware capacity (``hardware``), formats (``fixed``) and the neuron model
        (``network``: leak, reset, surrogate, loss, centering, threshold learning). The layer
        sizes and ``T`` come from the program (rtl_gen/isa.py) at run time.
    poison_collisions : bool
        For tests: a memory read of an address written in the same cycle returns inverted
        bits (the iCE40 build leaves such reads undefined; the engine must use none).

    Members
    -------
    mem_sel, mem_addr, mem_wdata, mem_we, mem_re : In
        Host access to the memories of :class:`rtl_gen.protocol.Mem` (one word a cycle); ``mem_rdata`` : Out
        holds the word of ``mem_sel``/``mem_addr`` two cycles after ``mem_re`` (after every
        idle cycle in fact: the read ports follow ``mem_addr`` every idle cycle and the word
        is registered after its memory's bank select, so this engine needs no read strobe;
        ``mem_re`` is the host's, for an engine whose reads have effects). Only while no
        run is in progress.
    run, train, label : In
        Start a run (one-cycle pulse): an inference, or with ``train`` a training sample of
        class ``label`` on the loaded frames (``label`` held until ``done``).
    lr_w, lr_th, lr_g : In(6)
        Learning-rate shifts of weights, thresholds and gains.
    done : Out(1)
        One-cycle pulse at a run's last cycle.
    cycles : Out(32)
        Cycles of the last (or current) run.
    prog_ok : Out(1)
        The program's fields are within the core's capacity (a run cannot hang).
    n_classes : Out(16)
        Classes of the program's readout layer. Both are registered: they reflect a program
        write from the second cycle after it.
    obs, obs_valid : Out
        One record per fired forward group (for testbenches; no back-pressure).

    Cycle behaviour: the scheduler runs stages (one cycle plus the longest engine started);
    forward ``5 + ACC + G`` per layer and step, backward ``G + 9`` plus a ``W^T da`` pass per
    layer and step, update ``3 + touched * (1 + n_in)`` per layer; golden/timing.py is the exact
    model and docs/architecture.md the description.
    """

    def __init__(self, cfg, poison_collisions: bool = False):
        self.cfg = cfg
        self.poison_collisions = poison_collisions
        self.mm = MemoryMap.of(cfg)
        self.ab = acc_bits(cfg)
        super().__init__({
            "mem_sel": In(4), "mem_addr": In(24), "mem_wdata": In(32), "mem_we": In(1),
            "mem_re": In(1), "mem_rdata": Out(32),
            "run": In(1), "train": In(1), "label": In(16),
            "lr_w": In(6), "lr_th": In(6), "lr_g": In(6),
            "done": Out(1), "cycles": Out(32), "prog_ok": Out(1), "n_classes": Out(16),
            "obs": Out(obs_layout(cfg)), "obs_valid": Out(1),
        })

    def elaborate(self, platform):  # noqa: C901 - one datapath, sections below
        m = Module()
        cfg, mm = self.cfg, self.mm
        net, f, hw = cfg.network, cfg.fixed, cfg.hardware
        L, vb, wb, wf, vf, ab = hw.lanes, f.v_bits, f.w_bits, f.w_frac, f.v_frac, self.ab
        TM, KM, CG, SW = mm.max_timesteps, mm.max_layers, mm.cap_groups, mm.spike_width
        NR, WR, FW = mm.neuron_capacity, mm.weight_capacity, mm.frame_words
        FS = mm.fire_stages  # FIRE data stages (hardware.fire_stages, at least 2)
        v = signed(vb)
        centering, learn_th = net.weight_centering, net.learn_threshold
        rsb = vb + math.ceil(math.log2(mm.max_width * TM + 1)) + 1  # exact row sums
        dense = hw.schedule == "dense"

        # An iCE40 has no LUT RAM: a memory not in block RAM becomes flip-flops and
        # multiplexers, which cost the logic cells the part is short of (even a 4 x 12-bit
        # memory: 48 flip-flops against one of 30 block RAMs), so there all go to block RAM.
        # Its block RAM's read of the address written in the same cycle is undefined, and
        # yosys emulates the old-data read that Amaranth means with a register of the write
        # data and an address compare for every port pair (about 450 of the 5,280 logic cells
        # of a 1-lane core): ``no_rw_check`` drops that, because no value the engine uses is
        # read in the cycle its address is written (``poison_collisions`` checks it).
        # Transparent ports (the forward sums) keep their forwarding logic.
        attrs = ({"ram_style": "block", "no_rw_check": 1} if hw.target.startswith("ice40")
                 else {})
        poisoned = []  # (memory, read port, its data as the engine sees it, transparent_for)

        def rport(mem, transparent_for=()):
            """A read port of ``mem``; with ``poison_collisions``, one whose data is inverted
            in the cycle after its address met a (non-transparent) write's."""
            p = mem.read_port(transparent_for=transparent_for)
            if not self.poison_collisions:
                return p
            seen = Signal.like(p.data, name=f"poisoned{len(poisoned)}")
            poisoned.append((mem, p, seen, transparent_for))
            return SimpleNamespace(addr=p.addr, en=p.en, data=seen)

        def mems(name, n, **kw):
            out = [Memory(init=[], attrs=attrs, **kw) for _ in range(n)]
            for k, mem in enumerate(out):
                m.submodules[f"{name}{k}"] = mem
            return out

        def step_bank_row(bank, row):
            """Statements that move an index ``j`` held as ``(j % L, j // L)`` to ``j + 1``."""
            return [bank.eq(Mux(bank == L - 1, 0, bank + 1)),
                    row.eq(Mux(bank == L - 1, row + 1, row))]

        # ---- program (rtl_gen/isa.py) -------------------------------------------------
        # The words as written go to a memory, for host reads only. The engine runs on
        # registered copies of the fields, as wide as the core's capacity (exact whenever
        # prog_ok: no run starts otherwise; the weight base as wide as a weight address,
        # where addresses wrap anyway), and each word's own checks are made once, on the
        # write bus as it is written: one set of comparators for every layer's words.
        wid_b, grp_b = mm.max_width.bit_length(), CG.bit_length()
        p_T, p_K, hdr_ok = Signal(range(TM + 1)), Signal(range(KM + 1)), Signal()
        lw = [SimpleNamespace(
            n_in=Signal(wid_b, name=f"p{l}_n_in"), n_out=Signal(wid_b, name=f"p{l}_n_out"),
            G=Signal(grp_b, name=f"p{l}_G"), hbase=Signal(_bits(NR), name=f"p{l}_hbase"),
            wbase=Signal(_bits(WR), name=f"p{l}_wbase"),
            recip=Signal(f.recip_bits + 1, name=f"p{l}_recip"),  # prog_ok: <= 2**recip_bits
            ok=Signal(4, name=f"p{l}_ok")) for l in range(KM)]  # words 0, 1, 3; G * L >= n_out
        n_in_a = Array(x.n_in for x in lw)
        n_out_a = Array(x.n_out for x in lw)
        groups_a = Array(x.G for x in lw)
        hbase_a = Array(x.hbase for x in lw)
        wbase_a = Array(x.wbase for x in lw)
        recip_a = Array(x.recip for x in lw)

        def layer_regs(eng):
            """An engine's registered copy of one layer's fields (no program field or
            multiplexer in front of its addresses) and ``load(l)``, the statements that fill
            it (each engine loads it when it starts a layer)."""
            r = SimpleNamespace(
                G=Signal(grp_b, name=f"{eng}_G"), n_in=Signal(wid_b, name=f"{eng}_n_in"),
                n_out=Signal(wid_b, name=f"{eng}_n_out"),
                hbase=Signal(_bits(NR), name=f"{eng}_hbase"),
                wbase=Signal(_bits(WR), name=f"{eng}_wbase"),
                recip=Signal(f.recip_bits + 1, name=f"{eng}_recip"),
                is_out=Signal(name=f"{eng}_is_out"))
            r.load = lambda l: [r.G.eq(groups_a[l]), r.n_in.eq(n_in_a[l]),
                                r.n_out.eq(n_out_a[l]), r.hbase.eq(hbase_a[l]),
                                r.wbase.eq(wbase_a[l]), r.recip.eq(recip_a[l]),
                                r.is_out.eq(l == p_K - 1)]
            return r

        (progmem,) = mems("progmem", 1, shape=32, depth=program_depth(KM))
        prog_r, prog_w = rport(progmem), progmem.write_port()
        wd = self.mem_wdata
        lo16, hi16 = wd[0:16], wd[16:32]
        # the checks of each kind of word, on the write bus
        # (compares as wide as their bounds: at_most; x >= 1 is x.any())
        w_hdr_ok = (wd[0:8].any() & at_most(wd[0:8], TM) & (wd[8:16] >= 2)
                    & at_most(wd[8:16], KM))
        w0_ok = (lo16.any() & at_most(lo16, mm.max_width) & hi16.any()
                 & at_most(hi16, mm.max_width))
        # hi16 + lo16 <= NR: lo16 <= CG and hi16 <= NR, so their sum on those bits
        sum_b = max(NR, CG).bit_length()
        w1_ok = (lo16.any() & at_most(lo16, CG) & at_most(hi16, NR)
                 & (hi16[:sum_b] + lo16[:sum_b] <= NR))
        w3_ok = at_most(wd, 1 << f.recip_bits)  # bounds the row mean (recip = 2**r / n_in)
        p_we = Signal()  # a host write of a program word (at mem_addr)
        p_word = self.mem_addr[:_bits(program_depth(KM))]  # the host checks the range
        m.d.comb += [prog_w.addr.eq(p_word), prog_w.data.eq(wd), prog_w.en.eq(p_we)]
        with m.If(p_we):
            with m.Switch(p_word):
                with m.Case(0):
                    m.d.sync += [p_T.eq(wd[0:8]), p_K.eq(wd[8:16]), hdr_ok.eq(w_hdr_ok)]
                for l, x in enumerate(lw):
                    base = 1 + WORDS_PER_LAYER * l
                    with m.Case(base):
                        m.d.sync += [x.n_in.eq(lo16), x.n_out.eq(hi16), x.ok[0].eq(w0_ok)]
                    with m.Case(base + 1):
                        m.d.sync += [x.G.eq(lo16), x.hbase.eq(hi16), x.ok[1].eq(w1_ok)]
                    with m.Case(base + 2):
                        m.d.sync += x.wbase.eq(wd)
                    with m.Case(base + 3):
                        m.d.sync += [x.recip.eq(wd), x.ok[2].eq(w3_ok)]
        ok = hdr_ok
        for l, x in enumerate(lw):
            # the cross-word check on the narrowed fields (exact when the words' own pass)
            m.d.comb += x.ok[3].eq(x.G * L >= x.n_out)
            ok &= (l >= p_K) | x.ok.all()
        # registered: they follow a program write two cycles later, and a run command's
        # checks come at least three cycles after its last word (HostInterface)
        m.d.sync += [self.prog_ok.eq(ok), self.n_classes.eq(n_out_a[p_K - 1])]

        # ---- memories ------------------------------------------------------------------
        wmem = mems("wmem", L, shape=signed(wb), depth=WR)
        amem = mems("amem", L, shape=signed(ab), depth=CG)
        umem = mems("umem", L, shape=v, depth=NR)
        # the surrogate, and with centering the exact sum (for the gain gradient)
        hmem = mems("hmem", L, shape=unsigned(vb + ab if centering else vb), depth=2 * NR)
        dmem = mems("dmem", L, shape=unsigned(TM * vb), depth=NR)
        rmem = mems("rmem", L, shape=signed(rsb), depth=NR)
        smem = mems("smem", L, shape=v, depth=CG)
        omem = mems("omem", L, shape=v, depth=mm.readout_capacity)
        (thmem,) = mems("thmem", 1, shape=v, depth=max(mm.param_rows, 1))
        (gmem,) = mems("gmem", 1, shape=v, depth=max(mm.param_rows, 1))
        (cmem,) = mems("cmem", 1, shape=unsigned(wid_b), depth=KM * TM)

        w_ra = [rport(x) for x in wmem]  # forward
        # backward pass, update, host: a second port only where forward and backward overlap
        # (a block RAM has one read port: yosys copies the memory for each further one)
        w_rb = [rport(x) for x in wmem] if hw.schedule == "dual" else w_ra
        w_w = [x.write_port() for x in wmem]  # update, host
        a_w = [x.write_port() for x in amem]
        a_r = [rport(x, transparent_for=(wp,)) for x, wp in zip(amem, a_w)]
        u_r = [rport(x) for x in umem]
        u_w = [x.write_port() for x in umem]
        h_r = [rport(x) for x in hmem]
        h_w = [x.write_port() for x in hmem]
        d_r = [rport(x) for x in dmem]
        d_w = [x.write_port(granularity=vb) for x in dmem]
        r_r = [rport(x) for x in rmem]
        r_w = [x.write_port() for x in rmem]
        s_r = [rport(x) for x in smem]
        s_w = [x.write_port() for x in smem]
        o_r = [rport(x) for x in omem]  # backward, host
        o_w = [x.write_port() for x in omem]
        th_ra, th_rb, th_w = rport(thmem), rport(thmem), thmem.write_port()
        g_ra, g_rb, g_w = rport(gmem), rport(gmem), gmem.write_port()
        c_r, c_w = rport(cmem), cmem.write_port()

        # the input frames (the host writes them; a run only reads them), in registers: the
        # forward engine takes a step's whole frame in a cycle and the update one input's bit
        # of every step in a cycle, so they are also the input layer's spike history (an input
        # j < n_in of step t spiked iff its frame bit is set)
        frames = [Signal(32 * FW, name=f"frame{t}") for t in range(TM)]
        frames_a = Array(frames)
        # the LIF layers' spike history, read by the update (one input j, every step t, a
        # cycle): memories banked like the neurons (bank j % L, row (l - 1) * CG + j // L, bit
        # t; the forward engine writes one group of one step a cycle)
        hmems = mems("shist", L, shape=unsigned(TM), depth=max((KM - 1) * CG, 1))
        hist_r = [rport(x) for x in hmems]
        hist_w = [x.write_port(granularity=1) for x in hmems]
        nvec = Signal(SW)  # the spikes of the layer fired last: the next layer's input vector
        # the groups of each layer whose da is nonzero at some step (the update visits only
        # those; dense: all): a row per layer, bit q set by the DELTA, read by the update before
        # it starts the layer and cleared then (a training run's update starts every layer
        # of the program; an inference sets none), so every run starts with none set
        if not dense:
            (tmem,) = mems("touched", 1, shape=CG, depth=max(KM, 2))
            touched_r, touched_w = rport(tmem), tmem.write_port(granularity=1)

        # ---- run state and scheduler -------------------------------------------------------
        train = Signal()
        label = self.label  # held by the host until done
        # the cycle counters, as wide as the longest run this core can make needs (they
        # cannot wrap); a core whose longest run passes 2**32 - 1 cycles counts up to that
        # and stays there
        bound = run_cycle_bound(mm.max_width, CG, KM, TM, mm.fire_stages)
        cyc = {name: Signal(min(32, bound.bit_length()), name=f"cyc_{name}")
               for name in CYCLE_COUNTERS}

        def inc(c, n=1):
            return Mux(c.all(), c, c + n) if bound >= (1 << 32) - 1 else c + n
        # the final count already in the DONE cycle (the host interface samples it there)
        m.d.comb += self.cycles.eq(inc(cyc["total"], self.done))
        f_start, f_done, f_busy = Signal(), Signal(), Signal()
        b_start, b_done, b_busy = Signal(), Signal(), Signal()
        u_start, u_done, u_busy = Signal(), Signal(), Signal()
        f_t = Signal(range(TM + 1))  # next forward step
        b_t = Signal(range(TM + 1))  # next backward step
        fb_turn = Signal()  # serial: the backward of f_t - 1 is next
        wait_f, wait_b, wait_u = Signal(), Signal(), Signal()
        last_stage = Signal()
        sched_busy = Signal()
        with m.If(f_busy):
            m.d.sync += cyc["forward"].eq(inc(cyc["forward"]))
        with m.If(b_busy):
            m.d.sync += cyc["backward"].eq(inc(cyc["backward"]))
        with m.If(u_busy):
            m.d.sync += cyc["update"].eq(inc(cyc["update"]))
        with m.If(sched_busy):
            m.d.sync += cyc["total"].eq(inc(cyc["total"]))
        T = p_T
        # GO's compares, registered in the cycle before it (in IDLE for f_t = b_t = 0, in
        # WAIT for the steps GO will see), so GO decodes no comparator
        f_more, b_behind, b_more, f_last = Signal(), Signal(), Signal(), Signal()

        def go_compares(ft_, bt_):
            return [f_more.eq(ft_ < T), b_behind.eq(bt_ < ft_), b_more.eq(bt_ < T),
                    f_last.eq(ft_ == T - 1)]

        with m.FSM(name="sched"):
            with m.State("IDLE"):
                m.d.sync += go_compares(Const(0), Const(0))
                with m.If(self.run):
                    m.d.sync += [train.eq(self.train), f_t.eq(0),
                                 b_t.eq(0), fb_turn.eq(0)]
                    m.d.sync += [c.eq(0) for c in cyc.values()]
                    m.next = "GO"
            with m.State("GO"):
                m.d.comb += sched_busy.eq(1)
                go_f, go_b, go_u = Signal(), Signal(), Signal()
                with m.If(~train):
                    m.d.comb += go_f.eq(1)
                if hw.schedule == "dual":
                    with m.Elif(f_more | b_behind):
                        m.d.comb += [go_f.eq(f_more), go_b.eq(b_behind)]
                    with m.Else():
                        m.d.comb += go_u.eq(1)
                else:
                    with m.Elif(f_more & ~fb_turn):
                        m.d.comb += go_f.eq(1)
                    with m.Elif(b_more):
                        m.d.comb += go_b.eq(1)
                    with m.Else():
                        m.d.comb += go_u.eq(1)
                m.d.comb += [f_start.eq(go_f), b_start.eq(go_b), u_start.eq(go_u)]
                m.d.sync += [wait_f.eq(go_f), wait_b.eq(go_b), wait_u.eq(go_u),
                             last_stage.eq(go_u | (~train & f_last))]
                with m.If(go_f):
                    m.d.sync += f_t.eq(f_t + 1)
                with m.If(go_b):
                    m.d.sync += b_t.eq(b_t + 1)
                m.d.sync += fb_turn.eq(go_f)
                m.next = "WAIT"
            with m.State("WAIT"):
                m.d.comb += sched_busy.eq(1)
                m.d.sync += go_compares(f_t, b_t)
                rem_f = wait_f & ~f_done
                rem_b = wait_b & ~b_done
                rem_u = wait_u & ~u_done
                m.d.sync += [wait_f.eq(rem_f), wait_b.eq(rem_b), wait_u.eq(rem_u)]
                with m.If(~rem_f & ~rem_b & ~rem_u):
                    with m.If(last_stage):
                        m.next = "DONE"
                    with m.Else():
                        m.next = "GO"
            with m.State("DONE"):
                m.d.comb += [sched_busy.eq(1), self.done.eq(1)]
                m.next = "IDLE"

        # ---- forward engine: one step, every weight layer --------------------------------
        fl = Signal(range(KM))  # layer
        ft = Signal(range(TM))  # step
        fq = Signal(range(max(CG, 2)))
        f_vth, f_gain = Signal(v), Signal(v)
        f_events = Signal(wid_b)
        f_any = Signal()  # the ACC has taken an event: the queue's empty offer ends it
        # the layer's program fields and the addresses built from them, registered in LOAD
        # (fl and ft hold from LOAD until the layer's last write, in DRAIN): no program
        # field, no multiplier in front of a memory address
        f_lay = layer_regs("f")
        f_is_out, f_G, f_n_out, f_hbase, f_wbase = (f_lay.is_out, f_lay.G, f_lay.n_out,
                                                     f_lay.hbase, f_lay.wbase)
        f_hrow = Signal(_bits(2 * NR))  # the history row base: ft[0] * NR + hbase
        f_obase = Signal(range(TM * CG + 1))  # the readout row base: ft * G
        f_wq = Signal(_bits(WR))  # wbase + fq: the weight address is f_wq + index * G
        f_at_last = Signal()  # fq == G - 1, registered: the queue's accept needs no compare
        # one event queue: the forward's inputs, then (in a stage of its own) the update's
        # touched groups
        m.submodules.queue = queue = EventQueue(max(SW, CG))
        # dense: the queue offers every input, and an input's spike bit says whether its
        # weights are added; otherwise it offers only the inputs that spiked
        f_vec = Signal(SW) if dense else None  # the layer's input spike vector this step
        # ACC data stages: an event's (index, group) in ACC gives the weight address
        # f_wq + index * G, registered (acc_rd: its reads are issued); then the sum and the
        # weight arrive and the sum is written (acc_issue). The ACC's last cycle (the queue's
        # empty offer), or ADRAIN after an empty ACC, waits for the last write (the sums' read
        # port is transparent for it)
        acc_rd, acc_rd_q, acc_rd_add = Signal(), Signal.like(fq), Signal()
        acc_w_addr = Signal(_bits(WR))
        acc_issue, acc_q, acc_add = Signal(), Signal.like(fq), Signal()
        fire_issue, fire_q = Signal(), Signal.like(fq)
        f_drain = Signal(range(FS))
        m.d.sync += [acc_rd.eq(0), fire_issue.eq(0),
                     acc_issue.eq(acc_rd), acc_q.eq(acc_rd_q), acc_add.eq(acc_rd_add)]
        # the queue takes the forward's vector in LOAD and the update's in USTART (q_put, a
        # register: it steers every bit of the queue); the forward's is built from registers
        # loaded in the cycle before LOAD, one LUT deep: the step's frame (f_frame, from f_t
        # in IDLE) or the layer below's spikes (nvec), and the layer's inputs (in_mask: frame
        # or spike bits past n_in are 0; layer 0's in IDLE, the next layer's in DRAIN)
        q_put, q_upd = Signal(), Signal()  # q_upd: the update's vector
        m.d.sync += q_put.eq(0)
        m.d.comb += queue.put.eq(q_put)
        in_mask = Signal(SW)
        f_frame = Signal(min(SW, 32 * FW))
        f_l0 = Signal()  # fl == 0
        f_vec_in = Signal(SW)  # the vector the forward puts
        n_in_next = Array(lw[min(l + 1, KM - 1)].n_in for l in range(KM))
        m.d.comb += f_vec_in.eq(Mux(f_l0, f_frame, nvec) & in_mask)
        host_f_addr = Signal(range(TM))
        with m.FSM(name="fwd"):
            with m.State("IDLE"):
                m.d.sync += [f_frame.eq(frames_a[f_t]), in_mask.eq(thermometer(n_in_a[0], SW))]
                with m.If(f_start):
                    m.d.sync += [fl.eq(0), f_l0.eq(1), ft.eq(f_t), q_put.eq(1), q_upd.eq(0)]
                    m.next = "LOAD"
            with m.State("LOAD"):
                m.d.comb += [f_busy.eq(1), th_ra.addr.eq(fl * TM + ft),
                             g_ra.addr.eq(fl * TM + ft)]
                m.d.sync += f_lay.load(fl)
                m.d.sync += [f_hrow.eq(ft[0] * NR + hbase_a[fl]), f_obase.eq(ft * groups_a[fl])]
                # the layer's input spikes (the queue takes them now, searches them in START)
                if dense:
                    m.d.sync += f_vec.eq(f_vec_in)
                m.next = "START"
            with m.State("START"):
                m.d.comb += f_busy.eq(1)
                m.d.sync += [f_vth.eq(th_ra.data), f_gain.eq(g_ra.data),
                             fq.eq(0), f_wq.eq(f_wbase), f_at_last.eq(f_G == 1),
                             f_events.eq(0), f_any.eq(0)]
                m.next = "ACC"
            with m.State("ACC"):
                m.d.comb += f_busy.eq(1)
                idx = queue.o.payload.index
                spike = f_vec.bit_select(idx, 1) if dense else Const(1)
                with m.If(queue.o.valid):
                    m.d.sync += [acc_rd.eq(1), acc_rd_q.eq(fq), acc_rd_add.eq(spike),
                                 acc_w_addr.eq(f_wq + idx * f_G), f_any.eq(1)]
                    with m.If(f_at_last):
                        m.d.comb += queue.o.ready.eq(1)
                        m.d.sync += [fq.eq(0), f_wq.eq(f_wbase), f_at_last.eq(f_G == 1),
                                     f_events.eq(f_events + spike)]
                    with m.Else():
                        m.d.sync += [fq.eq(fq + 1), f_wq.eq(f_wq + 1),
                                     f_at_last.eq(fq + 2 == f_G)]
                with m.Elif(f_any):
                    # the queue is empty: this cycle is the last event's drain (its reads,
                    # acc_rd; its write lands in FIRE), as ADRAIN is after an empty ACC. The
                    # exit waits for the empty offer instead of taking the queue's ``last``
                    # with the last event: ``last`` is the search's OR over the whole vector,
                    # and behind it the FSM's next state was the UP5K board's worst path
                    m.next = "FIRE"
                with m.Else():
                    m.next = "ADRAIN"
            with m.State("ADRAIN"):  # an empty ACC's one cycle more (the model's max(1, ...))
                m.d.comb += f_busy.eq(1)
                m.next = "FIRE"
            with m.State("FIRE"):
                m.d.comb += [f_busy.eq(1), c_w.addr.eq(fl * TM + ft), c_w.data.eq(f_events),
                             c_w.en.eq(fq == 0)]
                m.d.sync += [fire_issue.eq(1), fire_q.eq(fq)]
                for k in range(L):
                    m.d.comb += [a_r[k].addr.eq(fq), u_r[k].addr.eq(f_hbase + fq)]
                with m.If(f_at_last):  # (fq == G - 1: fq is 0 after the ACC)
                    m.d.sync += fq.eq(0)
                    m.next = "DRAIN"
                with m.Else():
                    m.d.sync += [fq.eq(fq + 1), f_at_last.eq(fq + 2 == f_G)]
            with m.State("DRAIN"):  # the last group through the LIF pipeline
                m.d.comb += f_busy.eq(1)
                m.d.sync += in_mask.eq(thermometer(n_in_next[fl], SW))
                m.d.sync += f_drain.eq(f_drain + 1)
                with m.If(f_drain == FS - 1):
                    m.d.sync += f_drain.eq(0)
                    with m.If(f_is_out):
                        m.d.comb += f_done.eq(1)
                        m.next = "IDLE"
                    with m.Else():
                        m.d.sync += [fl.eq(fl + 1), f_l0.eq(0), q_put.eq(1), q_upd.eq(0)]
                        m.next = "LOAD"

        # FIRE data stages (FS of them), group fire_q in stage 1: the sums and
        # membranes arrive from their memories; the LIF units take them (with three stages or
        # more: the product acc * gain registered; then current and u_pre registered) and give
        # spikes, membranes and surrogates in the last stage (group fire_w_q), when everything
        # is written. Stages beyond the LIF's three register the memories' outputs first.
        fire_w, fire_w_q = fire_issue, fire_q
        for st in range(2, FS + 1):
            nxt, nxt_q = Signal(name=f"fire_s{st}"), Signal.like(fq, name=f"fire_q{st}")
            m.d.sync += [nxt.eq(fire_w), nxt_q.eq(fire_w_q)]
            fire_pre_q = fire_w_q  # (the group a stage before the last)
            fire_w, fire_w_q = nxt, nxt_q
        # each lane's "holds a real neuron" (group * L + k < n_out) for the last stage,
        # compared a stage before it and registered: no compare before the spike
        lane_on = Signal(L)
        m.d.sync += lane_on.eq(Cat(fire_pre_q * L + k < f_n_out for k in range(L)))

        def delayed(x, n, name):
            for i in range(n):
                r = Signal.like(x, name=f"{name}_d{i + 1}")
                m.d.sync += r.eq(x)
                x = r
            return x

        spikes = Signal(L)
        h_row = f_hrow + fire_w_q
        lif_stages = min(FS, 3)
        for k in range(L):
            lif = LIFUnit(cfg, ab, stages=lif_stages)
            m.submodules[f"lif{k}"] = lif
            # the exact sum, for the history (written in the last stage)
            a2 = delayed(a_r[k].data, FS - 1, f"fire_a{k}")
            m.d.comb += [
                lif.acc.eq(delayed(a_r[k].data, FS - lif_stages, f"lif_acc{k}")),
                lif.gain.eq(f_gain),
                lif.u.eq(delayed(u_r[k].data, FS - lif_stages, f"lif_u{k}")),
                lif.rest.eq(ft == 0), lif.vth.eq(f_vth),
                lif.enable.eq(lane_on[k]),
                spikes[k].eq(lif.spike & ~f_is_out),
            ]
            with m.If(acc_rd):
                m.d.comb += [w_ra[k].addr.eq(acc_w_addr), a_r[k].addr.eq(acc_rd_q)]
            with m.If(acc_issue):
                m.d.comb += [a_w[k].addr.eq(acc_q), a_w[k].en.eq(1),
                             a_w[k].data.eq(a_r[k].data + Mux(acc_add, w_ra[k].data, 0))]
            with m.Elif(fire_issue):
                m.d.comb += [a_w[k].addr.eq(fire_q), a_w[k].data.eq(0), a_w[k].en.eq(1)]
            m.d.comb += [
                u_w[k].addr.eq(f_hbase + fire_w_q), u_w[k].data.eq(lif.u_post),
                u_w[k].en.eq(fire_w & ~f_is_out),
                h_w[k].addr.eq(h_row), h_w[k].data.eq(Cat(lif.surrogate, a2)),
                h_w[k].en.eq(fire_w & ~f_is_out),
                o_w[k].addr.eq(f_obase + fire_w_q), o_w[k].data.eq(lif.readout),
                o_w[k].en.eq(fire_w & f_is_out),
                self.obs.u_pre[k].eq(lif.u_pre), self.obs.u_post[k].eq(lif.u_post),
                self.obs.value[k].eq(Mux(f_is_out, lif.readout, lif.surrogate)),
            ]
        with m.If(fire_w & ~f_is_out):
            m.d.sync += nvec.word_select(fire_w_q, L).eq(spikes)
        for k in range(L):
            m.d.comb += [hist_w[k].addr.eq(fl * CG + fire_w_q),
                         hist_w[k].data.eq(spikes[k].replicate(TM)),
                         hist_w[k].en.eq(Mux(fire_w & ~f_is_out, Const(1, TM) << ft, 0))]
        m.d.comb += [
            self.obs_valid.eq(fire_w), self.obs.cycle.eq(cyc["total"]), self.obs.t.eq(ft),
            self.obs.layer.eq(fl), self.obs.group.eq(fire_w_q), self.obs.spike.eq(spikes),
        ]

        # ---- backward engine: one step, weight layers from the readout down -----------------
        bl = Signal(range(KM))
        bt = Signal(range(TM))
        bq = Signal(range(max(CG, 2)))
        # the layer's program fields, registered in BSTART (bl holds for the layer)
        b_lay = layer_regs("b")
        b_G, b_n_in, b_n_out, b_is_out = b_lay.G, b_lay.n_in, b_lay.n_out, b_lay.is_out
        b_latch = Signal()  # the cycle after BSTART: parameter reads arrive
        b_vth, b_gain = Signal(v), Signal(v)
        b_cnt = Signal(wid_b)
        ds_zero = Signal()
        sum_delta = Signal(signed(vb + _bits(mm.max_width + 1) + 1))
        sum_dg = Signal(signed(vb + ab + _bits(mm.max_width + 1) + 1))
        # the groups of this layer-step with a nonzero da, in order (the PASS reads one a
        # cycle, addressed one cycle ahead: a block RAM or LUT RAM, not CG registers)
        (nzmem,) = mems("nzlist", 1, shape=unsigned(_bits(CG)), depth=max(CG, 2))
        nz_r, nz_w = rport(nzmem), nzmem.write_port()
        nz_cnt = Signal(range(CG + 1))
        # the PASS's loop exits, registered (pidx == nz_cnt - 1, pj == n_in - 1): its row
        # loop decodes no comparator
        p_at_last, pj_last = Signal(), Signal()
        d_at_last = Signal()  # bq == G - 1, registered: the DELTA's loop exit decodes no compare
        d_issue, d_q = Signal(), Signal.like(bq)
        b_drain = Signal(range(DELTA_STAGES))
        pj = Signal(range(max(mm.max_width, 2)))  # pass: input index, its bank and row
        pj_bank = Signal(range(max(L, 2)))
        pj_row = Signal(range(max(CG, 2)))
        pidx = Signal(range(max(CG, 2)))
        p_base = Signal(_bits(WR))  # weight address of input pj's row: wbase + pj * G, stepped
        p_drain = Signal(range(PASS_STAGES))
        p_issue, p_last = Signal(), Signal()
        # the DELTA's groups in its stages 6 and 7, the PASS's input in its last (counted)
        d_q6, d_q7 = Signal.like(d_q, name="d_q6"), Signal.like(d_q, name="d_q7")
        p_wr_bank, p_wr_row = Signal.like(pj_bank, name="p_wr_bank"), Signal.like(pj_row,
                                                                                 name="p_wr_row")
        m.d.sync += [b_latch.eq(0), d_issue.eq(0), p_issue.eq(0)]
        b_param = bl * TM + bt
        # the DELTA read addresses' bases, registered in BSTART (bl and bt hold for the layer):
        # the readout row bt * G (a multiplier) and the surrogate and row-sum rows, so each
        # DELTA address is one add into its memory
        b_obase = Signal(range(max(mm.readout_capacity, 2)))
        b_hbase, b_hbase_t = Signal(_bits(NR)), Signal(_bits(2 * NR))
        # the threshold and gain steps, a pipeline running every cycle: -sum_delta, the
        # shifter, the rounding adder (the gain step: the shifter, the adder). sum_delta is
        # final three cycles before BUPD and sum_dg two (the DELTA stages above, DDRAIN's
        # DELTA_STAGES cycles), so BUPD finds the steps of the final sums and only subtracts
        # and saturates. The shift amounts are set while idle.
        sh_th, sh_g = Signal(6), Signal(6)
        m.d.sync += [sh_th.eq(self.lr_th), sh_g.eq(self.lr_g)]
        th_neg = Signal(signed(len(sum_delta) + 1))
        th_sh = Signal(shift_for_round(th_neg, sh_th).shape())
        g_sh = Signal(shift_for_round(sum_dg, sh_g, offset=wf).shape())
        # (|step| <= |sum| + 1, and -sum_delta takes a bit more than sum_delta)
        th_step = Signal(signed(len(sum_delta) + 2))
        g_step = Signal(signed(len(sum_dg) + 1))
        m.d.sync += [th_neg.eq(-sum_delta), th_sh.eq(shift_for_round(th_neg, sh_th)),
                     th_step.eq(round_half(th_sh)),
                     g_sh.eq(shift_for_round(sum_dg, sh_g, offset=wf)),
                     g_step.eq(round_half(g_sh))]
        target = int(round(net.target * (1 << vf)))
        hinge = net.loss == "hinge"
        host_o_addr = Signal(range(max(mm.readout_capacity, 2)))
        host_w_row = Signal(range(max(WR, 2)))
        host_param = Signal(range(max(mm.param_rows, 2)))
        host_c_addr = Signal(range(KM * TM))
        u_d_addr = Signal(range(max(NR, 2)))
        u_w_addr = Signal(range(max(WR, 2)))  # wbase + uj * G + uq, stepped by G a row
        with m.FSM(name="bwd"):
            with m.State("IDLE"):
                for k in range(L):
                    m.d.comb += o_r[k].addr.eq(host_o_addr)
                m.d.comb += [th_rb.addr.eq(host_param), g_rb.addr.eq(host_param),
                             c_r.addr.eq(host_c_addr)]
                with m.If(b_start):
                    m.d.sync += [bl.eq(p_K - 1), bt.eq(b_t), ds_zero.eq(0)]
                    m.next = "BSTART"
            with m.State("BSTART"):
                m.d.comb += [b_busy.eq(1), th_rb.addr.eq(b_param), g_rb.addr.eq(b_param),
                             c_r.addr.eq(bl * TM + bt)]
                m.d.sync += [d_q6.eq(0), d_q7.eq(0), p_wr_bank.eq(0), p_wr_row.eq(0)]
                m.d.sync += [b_latch.eq(1), bq.eq(0), nz_cnt.eq(0), sum_delta.eq(0),
                             sum_dg.eq(0), b_obase.eq(bt * groups_a[bl]),
                             b_hbase.eq(hbase_a[bl]), b_hbase_t.eq(bt[0] * NR + hbase_a[bl])]
                m.d.sync += [*b_lay.load(bl), d_at_last.eq(groups_a[bl] == 1)]
                m.next = "DELTA"
            with m.State("DELTA"):
                m.d.comb += b_busy.eq(1)
                for k in range(L):
                    m.d.comb += [o_r[k].addr.eq(b_obase + bq), s_r[k].addr.eq(bq),
                                 h_r[k].addr.eq(b_hbase_t + bq), r_r[k].addr.eq(b_hbase + bq)]
                m.d.sync += [d_issue.eq(1), d_q.eq(bq)]
                with m.If(d_at_last):
                    m.d.sync += bq.eq(0)
                    m.next = "DDRAIN"
                with m.Else():
                    m.d.sync += [bq.eq(bq + 1), d_at_last.eq(bq + 2 == b_G)]
            with m.State("DDRAIN"):  # the last group through the DELTA data stages
                m.d.comb += b_busy.eq(1)
                m.d.sync += b_drain.eq(b_drain + 1)
                with m.If(b_drain == DELTA_STAGES - 1):
                    m.d.sync += b_drain.eq(0)
                    m.next = "BUPD"
            with m.State("BUPD"):
                m.d.comb += b_busy.eq(1)
                with m.If(~b_is_out):
                    if learn_th:
                        m.d.comb += [th_w.addr.eq(b_param), th_w.en.eq(1),
                                     th_w.data.eq(sat(b_vth - th_step, vb))]
                    if centering:
                        m.d.comb += [g_w.addr.eq(b_param), g_w.en.eq(1),
                                     g_w.data.eq(sat(b_gain - g_step, vb))]
                with m.If((bl != 0) & ((nz_cnt != 0) | dense)):
                    m.d.sync += [pj.eq(0), pj_bank.eq(0), pj_row.eq(0), pidx.eq(0),
                                 p_base.eq(wbase_a[bl]), p_at_last.eq(nz_cnt == 1),
                                 pj_last.eq(b_n_in == 1)]
                    m.next = "PASS"
                with m.Elif(bl == 0):
                    m.d.comb += b_done.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += [bl.eq(bl - 1), ds_zero.eq(1)]
                    m.next = "BSTART"
            with m.State("PASS"):
                m.d.comb += b_busy.eq(1)
                q_now = nz_r.data  # nz_list[pidx], read in the cycle before
                for k in range(L):
                    m.d.comb += [w_rb[k].addr.eq(p_base + q_now),
                                 d_r[k].addr.eq(b_hbase + q_now)]
                last_idx = p_at_last  # pidx == nz_cnt - 1
                m.d.comb += nz_r.addr.eq(Mux(last_idx, 0, pidx + 1))
                m.d.sync += [p_issue.eq(1), p_last.eq(last_idx)]
                with m.If(last_idx):
                    m.d.sync += [pidx.eq(0), pj.eq(pj + 1), p_base.eq(p_base + b_G),
                                 p_at_last.eq(nz_cnt == 1), pj_last.eq(pj + 2 == b_n_in)]
                    m.d.sync += step_bank_row(pj_bank, pj_row)
                    with m.If(pj_last):  # pj == n_in - 1
                        m.next = "PDRAIN"
                with m.Else():
                    m.d.sync += [pidx.eq(pidx + 1), p_at_last.eq(pidx + 2 == nz_cnt)]
            with m.State("PDRAIN"):  # the PASS pipeline drains (its last ds written)
                m.d.comb += b_busy.eq(1)
                m.d.sync += p_drain.eq(p_drain + 1)
                with m.If(p_drain == PASS_STAGES - 1):
                    m.d.sync += [p_drain.eq(0), bl.eq(bl - 1), ds_zero.eq(0)]
                    m.next = "BSTART"

        with m.If(b_latch):
            m.d.sync += [b_vth.eq(th_rb.data), b_gain.eq(g_rb.data), b_cnt.eq(c_r.data)]

        # DELTA data stages (a pipeline of DELTA_STAGES = 7, one group a cycle), all lanes,
        # at most one multiplier or one adder chain between registers:
        # 1. the group's memory words registered (o, ds, h, a, row sum), the class compares
        # 2. the readout error, saturated; the product ds * h (LIF)
        # 3. the readout's da (the error, or 0 where the hinge keeps none); delta =
        #    sat(rshr(ds * h)) (LIF)
        # 4. the products delta * a and delta * g registered; the threshold gradient sum
        # 5. da: the readout's error, or sat(rshr(delta * g)) (LIF); the gain gradient sum
        # 6. da written, the group listed if its da is not all zero; the product da * count
        # 7. the row sum + da * count written
        assert DELTA_STAGES == 7, "the DELTA data path below has seven stages"
        # One multiplier per lane serves both stage 4's gain gradient delta * a and the
        # update's row mean rs * recip (with centering): the backward pass and the update never
        # run at once. Its operands are registers of their own (mul_a, mul_b), written with
        # a and delta in stage 3 or, in the update, with a group's row sums in its first row
        # cycle (u_first) and the layer's recip: nothing but the multiplier and its partial
        # products' adder sits between registers. The product of the next cycle (u_mean_cap)
        # is held for the group, whose rows read the mean in their second data stage, the
        # earliest two cycles on.
        u_lay = layer_regs("u")
        u_first = Signal()
        mul_a = [Signal(signed(max(rsb, ab)), name=f"mul_a{k}") for k in range(L)]
        mul_b = [Signal(signed(max(f.recip_bits + 2, vb)), name=f"mul_b{k}") for k in range(L)]
        u_mean_cap = delayed(u_first, 1, "u_first")
        d_iss = [d_issue]  # d_iss[s]: a group is in stage s + 1
        for s in range(2, 8):
            d_iss.append(delayed(d_iss[-1], 1, f"d_issue{s}"))
        # the groups in stages 6 and 7, counted (they enter in order, one a cycle, from 0
        # after BSTART, which clears the counts: the last layer-step's pipelines are drained)
        with m.If(d_iss[5]):
            m.d.sync += d_q6.eq(d_q6 + 1)
        with m.If(d_iss[6]):
            m.d.sync += d_q7.eq(d_q7 + 1)
        delta3 = [Signal(v, name=f"delta3_{k}") for k in range(L)]
        p_dgs = []
        da5 = [Signal(v, name=f"da5_{k}") for k in range(L)]
        for k in range(L):
            # stage 1
            cls = d_q * L + k
            o1 = Signal(v, name=f"o1_{k}")
            ds1, h1 = Signal(v, name=f"ds1_{k}"), Signal(v, name=f"h1_{k}")
            a1 = Signal(signed(ab), name=f"a1_{k}")
            r1 = Signal(signed(rsb), name=f"r1_{k}")
            valid1, is_label1 = Signal(name=f"valid1_{k}"), Signal(name=f"is_label1_{k}")
            m.d.sync += [o1.eq(o_r[k].data), ds1.eq(Mux(ds_zero, 0, s_r[k].data)),
                         h1.eq(h_r[k].data[:vb]), a1.eq(h_r[k].data[vb:]), r1.eq(r_r[k].data),
                         valid1.eq(cls < b_n_out), is_label1.eq(cls == label)]
            # stage 2 (readout: the error, saturated)
            err = Signal(signed(vb + 2), name=f"err{k}")
            m.d.comb += err.eq(o1 - Mux(is_label1, target, 0))
            e2 = Signal(v, name=f"e2_{k}")
            p_dh = Signal(signed(2 * vb), name=f"p_dh{k}")
            m.d.sync += [p_dh.eq(Mux(valid1, ds1 * h1, 0)), e2.eq(sat(err, vb))]
            # stage 3 (readout: da, the error or 0 where the hinge keeps none)
            is_label2 = delayed(is_label1, 1, f"is_label1_{k}")
            keep = Mux(is_label2, e2 < 0, e2 > 0) if hinge else 1
            err3 = Signal(v, name=f"err3_{k}")
            m.d.sync += err3.eq(Mux(delayed(valid1, 1, f"valid1_{k}") & keep, e2, 0))
            delta = sat(rshr(p_dh, vf), vb)
            m.d.sync += delta3[k].eq(delta)
            a1_3 = delayed(a1, 1, f"a1_{k}")
            # stage 4
            p_da = Signal(signed(2 * vb), name=f"p_da{k}")
            m.d.sync += p_da.eq(delta3[k] * b_gain if centering else delta3[k])
            if centering:
                # the operands: the update's row sums and recip in a group's first row
                # cycle (u_first, a register: no state decode before the multiplier's
                # operand registers), else the DELTA's; the update's product is taken only
                # in the next cycle (u_mean_cap), the DELTA's only while the update is idle
                with m.If(u_first):  # (the group's row sums: read in UNEXT)
                    m.d.sync += [mul_a[k].eq(Mux(u_lay.is_out, 0, r_r[k].data)),
                                 mul_b[k].eq(u_lay.recip)]
                with m.Else():
                    m.d.sync += [mul_a[k].eq(a1_3), mul_b[k].eq(delta)]
                p_dg = Signal(signed(len(mul_a[k]) + len(mul_b[k])), name=f"p_dg{k}")
                with m.If(~u_busy | u_mean_cap):
                    m.d.sync += p_dg.eq(mul_a[k] * mul_b[k])
            else:
                p_dg = Signal(signed(vb + ab), name=f"p_dg{k}")
                m.d.sync += p_dg.eq(delta3[k] * delayed(a1_3, 1, f"a1_3_{k}"))
            p_dgs.append(p_dg)
            # stage 5
            lif_da = sat(rshr(p_da, vf), vb) if centering else p_da
            m.d.sync += da5[k].eq(Mux(b_is_out, delayed(err3, 1, f"err3_{k}"), lif_da))
            # stage 6
            m.d.comb += [d_w[k].addr.eq(b_hbase + d_q6),
                         d_w[k].data.eq(da5[k].replicate(TM)),
                         d_w[k].en.eq(Mux(d_iss[5], Const(1, TM) << bt, 0))]
            if centering:
                p_dc = Signal(signed(vb + len(b_cnt) + 1), name=f"p_dc{k}")
                m.d.sync += p_dc.eq(da5[k] * b_cnt)
                # stage 7
                m.d.comb += [r_w[k].addr.eq(b_hbase + d_q7),
                             r_w[k].data.eq(delayed(r1, 5, f"r1_{k}") + p_dc),
                             r_w[k].en.eq(d_iss[6] & ~b_is_out)]
        with m.If(d_iss[3]):
            m.d.sync += sum_delta.eq(sum_delta + _tree_sum(delta3))
        with m.If(d_iss[4]):
            m.d.sync += sum_dg.eq(sum_dg + _tree_sum(p_dgs))
        nonzero = Cat(x != 0 for x in da5).any() | dense
        with m.If(d_iss[5] & nonzero):
            m.d.comb += [nz_w.addr.eq(nz_cnt), nz_w.data.eq(d_q6), nz_w.en.eq(1)]
            m.d.sync += nz_cnt.eq(nz_cnt + 1)
            if not dense:
                m.d.comb += [touched_w.addr.eq(bl), touched_w.data.eq(-1),
                             touched_w.en.eq(Const(1, CG) << d_q6)]

        # PASS data stages (a pipeline of PASS_STAGES = 5, one weight row a cycle), nothing
        # but a register after a block RAM's output and at most one multiplier or adder chain
        # between registers:
        # 1. the weight and error words registered (the multipliers' input registers)
        # 2. the lane products da_k W_k[j], registered
        # 3. their sum, registered
        # 4. ds[j] accumulated over j's listed groups; the total registered at its last group
        # 5. the rounded, saturated total written to ds[j]
        # The rounding's half (2**(w_frac-1)) is where the accumulator starts, so the write
        # only shifts and saturates: rshr(sum, wf) = (sum + 2**(wf-1)) >> wf
        assert PASS_STAGES == 5, "the PASS data path below has five stages"
        p_prod = [Signal(signed(vb + wb), name=f"p_prod{k}") for k in range(L)]
        p_iss = [p_issue]  # p_iss[s]: a row is in stage s + 1
        for s in range(2, 6):
            p_iss.append(delayed(p_iss[-1], 1, f"p_issue{s}"))
        p_acc_last = delayed(p_last, 3, "p_last")  # stage 4's row is j's last group
        p_wr_last = delayed(p_acc_last, 1, "p_acc_last")
        # input j's bank and row in the last stage, counted like the DELTA's groups: the
        # inputs finish in order, from 0 after BSTART
        with m.If(p_iss[4] & p_wr_last):
            m.d.sync += step_bank_row(p_wr_bank, p_wr_row)
        for k in range(L):
            p_w1 = Signal(signed(wb), name=f"p_w1_{k}")
            p_d1 = Signal(v, name=f"p_d1_{k}")
            m.d.sync += [p_w1.eq(w_rb[k].data), p_d1.eq(d_r[k].data.word_select(bt, vb)),
                         p_prod[k].eq(p_d1 * p_w1)]
        p_tot = Signal(signed(vb + wb + _bits(L + 1)))
        m.d.sync += p_tot.eq(_tree_sum(p_prod))
        p_half = 1 << (wf - 1) if wf else 0  # (one bit more in p_acc for it)
        p_acc = Signal(signed(vb + wb + _bits(L + 1) + _bits(CG + 1) + 2), init=p_half)
        p_fin = Signal.like(p_acc)
        p_sum = p_acc + p_tot
        with m.If(p_iss[3]):
            m.d.sync += p_acc.eq(Mux(p_acc_last, p_half, p_sum))
            with m.If(p_acc_last):
                m.d.sync += p_fin.eq(p_sum)
        with m.If(p_iss[4]):
            for k in range(L):
                m.d.comb += [s_w[k].addr.eq(p_wr_row), s_w[k].data.eq(sat(p_fin >> wf, vb)),
                             s_w[k].en.eq(p_wr_last & (p_wr_bank == k))]

        # ---- update engine: every touched group of every weight layer ----------------------
        ul = Signal(range(KM))
        uq = Signal(range(max(CG, 2)))
        uj = Signal(range(max(mm.max_width, 2)))
        uj_last = Signal()  # uj == n_in - 1, registered: the row loop's exit needs no compare
        u_issue = Signal()
        u_da = [[Signal(v, name=f"uda{k}_{t}") for t in range(TM)] for k in range(L)]
        # |mean| = |rshr(rs * recip, recip_bits)| <= |rs| + 1 as recip <= 2**recip_bits
        # (from the row sums' product on the multiplier shared with the DELTA, held for
        # the group from its second row cycle on)
        u_m = [Signal(signed(rsb + 1), name=f"um{k}") for k in range(L)]
        u_sbits = Signal(TM)  # the input layer's spikes of row uj (registered)
        uj_bank, uj_row = Signal(range(max(L, 2))), Signal(range(max(CG, 2)))  # uj % L, uj // L
        u_bank = Signal.like(uj_bank)  # uj_bank of the row in its data cycle (u_issue)
        u_l0 = Signal()  # that row belongs to the input layer
        m.d.sync += u_issue.eq(0)
        # the centred gradient sum's width (ugrad)
        gc_bits = max(vb + _bits(TM) + 1, rsb + 1) + 1
        # the step's shift: the host keeps lr_w >= w_frac - v_frac; registered (set while
        # idle), at most gc_bits (a shift past the sum's width leaves only its sign, as
        # gc_bits does), so the shifter has no stages for more
        sh_raw = self.lr_w + vf - wf
        sh_w = Signal(range(gc_bits + 1))
        m.d.sync += sh_w.eq(Mux(sh_raw > gc_bits, gc_bits, sh_raw))
        # the layer's program fields, registered with ul (in IDLE and UNEXT); dense: its
        # groups (otherwise the touched groups, all below G: the DELTA sets no other bit, and
        # a run starts with none set)
        g_mask = Signal(CG) if dense else None
        u_G, u_n_in, u_hbase, u_wbase, u_is_out = (
            u_lay.G, u_lay.n_in, u_lay.hbase, u_lay.wbase, u_lay.is_out)
        if centering:  # (the readout's row sums are taken as 0: its mean is 0)
            m.d.comb += [u_m[k].eq(rshr(p_dgs[k], f.recip_bits)) for k in range(L)]
        u_hist_row = Signal(range(KM * CG + 1))  # (ul - 1) * CG: the layer's spike history

        # the queue takes the touched row or the pending groups in USTART (q_put); UWAIT:
        # it searches them
        u_vec = Signal(CG)
        m.d.comb += queue.put_vector.eq(Mux(q_upd, u_vec, in_mask if dense else f_vec_in))
        if dense:
            m.d.comb += u_vec.eq(g_mask)
        else:
            # the touched row of the layer to come, registered: read while the update is idle
            # (layer 0) or busy with the layer before (nothing writes that row then: the
            # update clears only its own layer's, in USTART), latched every cycle, so the
            # row is a register by USTART and the queue takes no block RAM output
            t_row = Signal(CG)
            m.d.comb += touched_r.addr.eq(Mux(u_busy, ul + 1, 0))
            m.d.sync += t_row.eq(touched_r.data)
            m.d.comb += u_vec.eq(t_row)

        def set_ul(val):  # (the next cycle is USTART)
            m.d.sync += u_lay.load(val)
            m.d.sync += [q_put.eq(1), q_upd.eq(1)]
            m.d.sync += [ul.eq(val), u_hist_row.eq((val - 1) * CG)]
            if dense:
                m.d.sync += g_mask.eq(thermometer(groups_a[val], CG))
        t_mask = Signal(TM)
        m.d.comb += t_mask.eq(thermometer(p_T, TM))
        with m.FSM(name="upd"):
            with m.State("IDLE"):
                with m.If(u_start):
                    set_ul(0)
                    m.next = "USTART"
            with m.State("USTART"):
                m.d.comb += u_busy.eq(1)
                if not dense:
                    m.d.comb += [touched_w.addr.eq(ul), touched_w.data.eq(0),
                                 touched_w.en.eq(-1)]
                m.next = "UWAIT"
            with m.State("UWAIT"):
                m.d.comb += u_busy.eq(1)
                m.next = "UNEXT"
            with m.State("UNEXT"):
                m.d.comb += u_busy.eq(1)
                with m.If(queue.o.valid):
                    q_new = queue.o.payload.index
                    m.d.comb += queue.o.ready.eq(1)
                    m.d.comb += u_d_addr.eq(u_hbase + q_new)
                    m.d.sync += [uq.eq(q_new), uj.eq(0), uj_bank.eq(0), uj_row.eq(0),
                                 uj_last.eq(u_n_in == 1), u_first.eq(1),
                                 u_w_addr.eq(u_wbase + q_new)]
                    m.next = "UROW"
                with m.Elif(u_is_out):
                    m.d.comb += u_done.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    set_ul(ul + 1)
                    m.next = "USTART"
            with m.State("UROW"):
                m.d.comb += u_busy.eq(1)
                m.d.sync += [u_first.eq(0), u_issue.eq(1), u_bank.eq(uj_bank), u_l0.eq(ul == 0),
                             u_sbits.eq(Cat(x.bit_select(uj, 1) for x in frames))]
                for k in range(L):
                    m.d.comb += hist_r[k].addr.eq(u_hist_row + uj_row)
                with m.If(u_first):
                    for k in range(L):
                        m.d.sync += [u_da[k][t].eq(d_r[k].data.word_select(t, vb).as_signed())
                                     for t in range(TM)]
                        m.d.comb += [r_w[k].addr.eq(u_hbase + uq), r_w[k].data.eq(0),
                                     r_w[k].en.eq(1)]
                m.d.comb += u_d_addr.eq(u_hbase + uq)
                with m.If(uj_last):
                    m.next = "UNEXT"
                with m.Else():
                    m.d.sync += [uj.eq(uj + 1), u_w_addr.eq(u_w_addr + u_G),
                                 uj_last.eq(uj + 2 == u_n_in)]
                    m.d.sync += step_bank_row(uj_bank, uj_row)
        # the row's spikes at every step, in its data cycle
        sbits = Signal(TM)
        m.d.comb += sbits.eq(Mux(u_l0, u_sbits,
                                 Cat(Array(r.data[t] for r in hist_r)[u_bank] for t in range(TM)))
                             & t_mask)
        u_w_addr_d = Signal.like(u_w_addr)
        m.d.sync += u_w_addr_d.eq(u_w_addr)
        with m.If(u_busy):
            for k in range(L):
                m.d.comb += [d_r[k].addr.eq(u_d_addr), r_r[k].addr.eq(u_d_addr)]
        # five data stages per row: the row's spike bits and old weight registered (nothing
        # but a register after the history's bank select and the weight block RAM); the
        # centred gradient sum (minus the row mean); the step's shifter; its rounding, and
        # its saturation to one bit over the weight's; the step subtracted, saturated and
        # written. The cycle counts stay: a group's last write lands four cycles after
        # UNEXT, and only its second stage needs u_m and u_da, which take the next group's
        # values in the cycle after that stage (no other row of the group is read later;
        # after the last group the write lands at most four cycles after the update's end,
        # before any host command can reach the weights: docs/architecture.md).
        u_iss = [u_issue]  # u_iss[s]: a row is in stage s + 1
        u_wa = [u_w_addr_d]
        for s in range(2, 6):
            u_iss.append(delayed(u_iss[-1], 1, f"u_issue{s}"))
            u_wa.append(delayed(u_wa[-1], 1, f"u_w_addr_d{s}"))
        sbits1 = Signal(TM)
        m.d.sync += sbits1.eq(sbits)
        for k in range(L):
            w_old1 = Signal(signed(wb), name=f"uw1_{k}")
            m.d.sync += w_old1.eq(w_rb[k].data)
            grad = _tree_sum(Mux(sbits1[t], u_da[k][t], 0) for t in range(TM))
            g_c = Signal(signed(gc_bits), name=f"ugrad{k}")
            w_old = Signal(signed(wb), name=f"uw{k}")
            m.d.sync += [g_c.eq(grad - u_m[k]), w_old.eq(w_old1)]
            # the step rshr_var(g_c, sh_w): its shifter, then its rounding adder with
            # sat_sub's first saturation (to one bit over the weight's)
            u_sh = Signal(shift_for_round(g_c, sh_w).shape(), name=f"ushift{k}")
            w_old2 = Signal(signed(wb), name=f"uw2_{k}")
            m.d.sync += [u_sh.eq(shift_for_round(g_c, sh_w)), w_old2.eq(w_old)]
            step_s = Signal(signed(wb + 1), name=f"usteps{k}")
            w_old3 = Signal(signed(wb), name=f"uw3_{k}")
            m.d.sync += [step_s.eq(sat(round_half(u_sh), wb + 1)), w_old3.eq(w_old2)]
            with m.If(u_busy):
                m.d.comb += w_rb[k].addr.eq(u_w_addr)
            with m.If(u_iss[4]):
                m.d.comb += [w_w[k].addr.eq(u_wa[4]), w_w[k].en.eq(1),
                             w_w[k].data.eq(sat_sub(w_old3, step_s, wb))]

        # ---- host access (only while idle) --------------------------------------------------
        sel, addr, wdata = self.mem_sel, self.mem_addr, self.mem_wdata
        we = self.mem_we
        bank = Signal(range(max(L, 2)))
        row = Signal(24)
        fword = Signal(range(max(FW, 2)))
        m.d.comb += [bank.eq(addr % L), row.eq(addr // L), fword.eq(addr % FW)]
        with m.If(we):
            with m.Switch(sel):
                with m.Case(Mem.WEIGHTS):
                    for k in range(L):
                        m.d.comb += [w_w[k].addr.eq(row), w_w[k].data.eq(wdata[:wb]),
                                     w_w[k].en.eq(bank == k)]
                with m.Case(Mem.THRESHOLDS):
                    m.d.comb += [th_w.addr.eq(addr), th_w.data.eq(wdata[:vb]), th_w.en.eq(1)]
                with m.Case(Mem.GAINS):
                    m.d.comb += [g_w.addr.eq(addr), g_w.data.eq(wdata[:vb]), g_w.en.eq(1)]
                with m.Case(Mem.FRAMES):
                    for t, x in enumerate(frames):
                        for w in range(FW):
                            with m.If((host_f_addr == t) & (fword == w)):
                                m.d.sync += x[32 * w:32 * (w + 1)].eq(wdata)
                with m.Case(Mem.PROGRAM):
                    m.d.comb += p_we.eq(1)
        # reads: the idle read ports follow the host address every cycle; the word read in
        # a cycle is selected in the next from the sel/bank/address registered every cycle
        # (no enable: mem_re, decoded late in the host, would fan out to every one of them)
        rd_sel, rd_bank, rd_addr = Signal(4), Signal.like(bank), Signal(24)
        m.d.sync += [rd_sel.eq(sel), rd_bank.eq(bank), rd_addr.eq(addr)]
        m.d.comb += [prog_r.addr.eq(p_word),
                     host_w_row.eq(row), host_o_addr.eq(row), host_param.eq(addr),
                     host_f_addr.eq(addr // FW), host_c_addr.eq(addr)]
        rd_f, rd_fword = Signal.like(host_f_addr), Signal.like(fword)  # a frame word read
        m.d.sync += [rd_f.eq(host_f_addr), rd_fword.eq(fword)]
        with m.If(~u_busy & ~b_busy & ~f_busy):
            for k in range(L):
                m.d.comb += w_rb[k].addr.eq(host_w_row)
        # the word is registered in the cycle its memory gives it: the lane's (weights,
        # readout: a bank select) or the others' (a select over the memories); the next
        # cycle picks one of the three registers
        rd_w, rd_o, rd_misc = Signal(signed(wb)), Signal(signed(vb)), Signal(32)
        rd_sel2 = Signal.like(rd_sel)
        m.d.sync += [rd_sel2.eq(rd_sel), rd_w.eq(Array(p.data for p in w_rb)[rd_bank]),
                     rd_o.eq(Array(p.data for p in o_r)[rd_bank])]
        sext = lambda x: x.as_signed()  # noqa: E731 - sign-extend into the 32-bit word
        with m.Switch(rd_sel):
            with m.Case(Mem.THRESHOLDS):
                m.d.sync += rd_misc.eq(sext(th_rb.data))
            with m.Case(Mem.GAINS):
                m.d.sync += rd_misc.eq(sext(g_rb.data))
            with m.Case(Mem.FRAMES):
                m.d.sync += rd_misc.eq(frames_a[rd_f].word_select(rd_fword, 32))
            with m.Case(Mem.PROGRAM):
                m.d.sync += rd_misc.eq(prog_r.data)
            with m.Case(Mem.COUNTS):
                m.d.sync += rd_misc.eq(c_r.data)
            with m.Case(Mem.CYCLES):
                m.d.sync += rd_misc.eq(Array(cyc.values())[rd_addr[:2]])
        m.d.comb += self.mem_rdata.eq(Mux(rd_sel2 == Mem.WEIGHTS, sext(rd_w),
                                          Mux(rd_sel2 == Mem.READOUT, sext(rd_o), rd_misc)))

        for mem, p, seen, transparent in poisoned:
            hit = Const(0)
            for wp in mem.write_ports:
                if not any(wp is t for t in transparent):
                    hit |= wp.en.any() & (wp.addr == p.addr)
            collided = Signal(name=f"{seen.name}_collided")
            m.d.sync += collided.eq(hit & p.en)
            m.d.comb += seen.eq(Mux(collided, ~p.data, p.data))
        return m
