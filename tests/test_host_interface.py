"""HostInterface (rtl_gen/host_interface.py) in amaranth.sim against a fake engine, the host
driver (rtl_gen/protocol.py) and the reference model and fuzzer (sim/fuzz.py)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import pytest
from amaranth.back import verilog
from amaranth.hdl import Elaboratable, Module, Mux, Signal
from amaranth.lib.memory import Memory
from amaranth.sim import Simulator

from rtl_gen.host_interface import HostInterface
from rtl_gen.protocol import (READ_ONLY, READ_WRITE, Command, Err, Host, MalformedReply, Mem,
                              Op, ProtocolError, SyncHost, header, parse_reply_header,
                              reply_header, to_signed32)
from sim.fuzz import Fuzzer, ModelTransport, ReferenceDecoder, reply_matches, run_fuzz

DEPTHS = {Mem.WEIGHTS: 40, Mem.THRESHOLDS: 12, Mem.GAINS: 12, Mem.FRAMES: 6, Mem.PROGRAM: 5,
          Mem.READOUT: 20, Mem.COUNTS: 7, Mem.CYCLES: 4}
LR_RANGES = ((2, 24), (0, 20), (4, 30))
LR_INIT = (5, 8, 10)
PROG_OK_WORD = 1 << 31 | 10  # PROGRAM[0] of the fake engine: bit 31 prog_ok, bits 3..0 n_classes


@dataclass(frozen=True)
class Setup:
    depths: dict
    writable: frozenset = READ_WRITE
    readable: frozenset = READ_WRITE | READ_ONLY
    lr_ranges: tuple = LR_RANGES
    lr_init: tuple = LR_INIT

    def present(self, ids):
        return frozenset(k for k in ids if k in self.depths)

    def args(self):
        return (self.depths, self.present(self.writable), self.present(self.readable),
                self.lr_ranges, self.lr_init)

    def init(self, seed=1):
        """Random initial memory contents; PROGRAM[0] says: program loaded, 10 classes."""
        g = random.Random(seed)
        mems = {k: [g.getrandbits(32) for _ in range(d)] for k, d in self.depths.items()}
        if Mem.PROGRAM in mems:
            mems[Mem.PROGRAM][0] = PROG_OK_WORD
        return mems


SETUP = Setup(DEPTHS)


class FakeModel(ReferenceDecoder):
    """The reference model with the fake engine's behaviour."""

    def engine_prog_ok(self):
        return Mem.PROGRAM not in self.mems or bool(self.mems[Mem.PROGRAM][0] >> 31)

    def engine_n_classes(self):
        return self.mems[Mem.PROGRAM][0] & 0xF if Mem.PROGRAM in self.mems else 10

    def engine_run(self, train, label):
        return fake_cycles(len(self.runs) + 1, train, label)


def fake_cycles(run_no, train, label):
    return run_no << 16 | train << 15 | (label & 0xFF if train else 0)


def model_for(setup, init):
    return FakeModel(*setup.args(), init=init)


class Bench(Elaboratable):
    """HostInterface and a fake engine: one memory per id (a registered read of ``mem_addr``
    every cycle, so a word is there only in the cycle after its read, as in the engine),
    prog_ok / n_classes registered from PROGRAM[0] (bit 31, bits 3..0), ``done`` ``label % 4 + train``
    cycles after the cycle after ``run`` (never, with ``never_done``), ``cycles`` valid only
    in the ``done`` cycle (garbage otherwise)."""

    def __init__(self, setup: Setup, init, never_done=False):
        self.setup = setup
        self.dut = HostInterface(*setup.args())
        self.mems = {k: Memory(shape=32, depth=d, init=init[k]) for k, d in setup.depths.items()}
        self.busy = Signal()
        self.never_done = never_done

    def elaborate(self, platform):
        m = Module()
        dut = self.dut
        m.submodules.dut = dut
        last_sel = Signal(4)
        with m.If(dut.mem_re):
            m.d.sync += last_sel.eq(dut.mem_sel)
        rdata = {}
        writable = self.setup.present(self.setup.writable)
        for k, mem in self.mems.items():
            m.submodules[f"mem{k}"] = mem
            sel = dut.mem_sel == k
            if k in writable:
                wp = mem.write_port()
                m.d.comb += [wp.addr.eq(dut.mem_addr), wp.data.eq(dut.mem_wdata),
                             wp.en.eq(dut.mem_we & sel)]
            rp = mem.read_port()
            m.d.comb += rp.addr.eq(dut.mem_addr)
            rdata[k] = rp.data
        with m.Switch(last_sel):  # registered, as the engine does: two cycles after mem_re
            for k, d in rdata.items():
                with m.Case(k):
                    m.d.sync += dut.mem_rdata.eq(d)
        if Mem.PROGRAM in self.mems:
            p0 = self.mems[Mem.PROGRAM].read_port(domain="comb")
            m.d.comb += p0.addr.eq(0)
            m.d.sync += [dut.prog_ok.eq(p0.data[31]), dut.n_classes.eq(p0.data[0:4])]
        else:
            m.d.comb += [dut.prog_ok.eq(1), dut.n_classes.eq(10)]

        timer = Signal(4)
        runs = Signal(16)
        train = Signal()
        label = Signal(16)
        done = Signal()
        if not self.never_done:
            m.d.comb += done.eq(self.busy & (timer == 0))
        m.d.comb += [dut.done.eq(done),
                     dut.cycles.eq(Mux(done, runs << 16 | train << 15 | Mux(train, label[0:8], 0),
                                       0xDEAD0000 | timer))]
        with m.If(dut.run):
            m.d.sync += [self.busy.eq(1), timer.eq(dut.label[0:2] + dut.train), runs.eq(runs + 1),
                         train.eq(dut.train), label.eq(dut.label)]
        with m.Elif(self.busy):
            with m.If(timer == 0):
                m.d.sync += self.busy.eq(0)
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class SimTimeout(AssertionError):
    pass


@dataclass
class CmdTrace:
    """What the bench saw while one command executed (from after the previous reply to the
    end of this one's)."""

    reply: list = field(default_factory=list)
    writes: list = field(default_factory=list)  # (mem, addr, data)
    runs: list = field(default_factory=list)  # (train, label)
    lr: tuple = ()
    error: int = 0
    reply_cycles: list = field(default_factory=list)
    dump: dict | None = None  # memory contents after the command


@dataclass
class Trace:
    cmds: list
    violations: list
    cycles: int
    final_dump: dict


class _Framer:
    """Splits the reply stream into replies."""

    def __init__(self):
        self.cur: list[int] = []
        self.need = None

    def feed(self, word) -> bool:
        self.cur.append(word)
        if self.need is None:
            self.need = parse_reply_header(word)[1]
        else:
            self.need -= 1
        if self.need == 0:
            self.need = None
            return True
        return False


def simulate(commands, setup=SETUP, *, init=None, seed=0, idle=0.3, backpressure=0.3,
             dump=None, never_done=False, timeout=4000) -> Trace:
    """Send ``commands`` (lists of words) with random idle cycles, take the replies with random
    back-pressure, and record what each command did. ``dump(k)`` -> True: dump every memory
    after command ``k``. A reply missing for ``timeout`` cycles raises :class:`SimTimeout`."""
    init = init if init is not None else setup.init()
    bench = Bench(setup, init, never_done)
    dut = bench.dut
    rng = random.Random(seed)
    n = len(commands)
    cmds = [CmdTrace() for _ in range(n)]
    violations: list[str] = []
    state = {"cycle": 0, "out": 0}
    dump = dump or (lambda k: False)

    def read_mems(ctx):
        return {k: [ctx.get(mem.data[a]) for a in range(mem.depth)]
                for k, mem in bench.mems.items()}

    async def source(ctx):
        for words in commands:
            for w in words:
                while rng.random() < idle:
                    ctx.set(dut.i.valid, 0)
                    await ctx.tick()
                ctx.set(dut.i.valid, 1)
                ctx.set(dut.i.payload, w)
                wait, seen = 0, state["out"]
                while True:  # a wait is fine while replies are still moving
                    _, _, ready = await ctx.tick().sample(dut.i.ready)
                    if ready:
                        break
                    wait = 0 if state["out"] != seen else wait + 1
                    seen = state["out"]
                    if wait > timeout:
                        raise SimTimeout(f"input word not taken for {timeout} cycles")
        ctx.set(dut.i.valid, 0)

    async def sink(ctx):
        framer, k, wait = _Framer(), 0, 0
        while k < n:
            ctx.set(dut.o.ready, rng.random() >= backpressure)
            _, _, valid, ready, word = await ctx.tick().sample(dut.o.valid, dut.o.ready,
                                                               dut.o.payload)
            if not (valid and ready):
                wait += 1
                if wait > timeout:
                    raise SimTimeout(f"no reply word for {timeout} cycles while waiting for "
                                     f"the reply to command {k}: {commands[k][:4]}")
                continue
            wait = 0
            state["out"] += 1
            if framer.feed(word):
                cmds[k].reply = framer.cur
                framer.cur = []
                if dump(k):  # right after the edge that took the last reply word
                    cmds[k].dump = read_mems(ctx)
                k += 1
        ctx.set(dut.o.ready, 0)
        await ctx.tick().repeat(3)
        for _ in range(3):  # nothing more comes out
            _, _, valid = await ctx.tick().sample(dut.o.valid)
            assert not valid, "reply words after the last reply"
        state["final"] = read_mems(ctx)

    async def monitor(ctx):
        framer, k = _Framer(), 0
        async for _, _, *v in ctx.tick().sample(
                dut.mem_we, dut.mem_re, dut.mem_sel, dut.mem_addr, dut.mem_wdata, dut.run,
                dut.train, dut.label, bench.busy, dut.o.valid, dut.o.ready, dut.o.payload,
                dut.lr_w, dut.lr_th, dut.lr_g, dut.error):
            (we, re, sel, addr, wdata, run, train, label, busy, ovalid, oready, word,
             lr_w, lr_th, lr_g, error) = v
            cyc = state["cycle"]
            state["cycle"] += 1
            if k >= n:
                if we or re or run:
                    violations.append(f"cycle {cyc}: activity after the last command")
                continue
            c = cmds[k]
            if (we or re) and busy:
                violations.append(f"cycle {cyc}: memory access during a run")
            if we:
                c.writes.append((sel, addr, wdata))
            if run:
                if busy:
                    violations.append(f"cycle {cyc}: run while busy")
                c.runs.append((train, label if train else 0))
            if ovalid and oready:
                c.reply_cycles.append(cyc)
                if framer.feed(word):
                    c.lr, c.error = (lr_w, lr_th, lr_g), error
                    framer.cur = []
                    k += 1

    sim = Simulator(bench)
    sim.add_clock(1e-8)
    sim.add_testbench(source)
    sim.add_testbench(sink)
    sim.add_process(monitor)
    sim.run()
    return Trace(cmds, violations, state["cycle"], state["final"])


def check_trace(trace, commands, model, kinds=None, dumps=True):
    """Every command's reply, writes, runs, lr registers and error register, and every
    memory dump, as the reference model says."""
    assert not trace.violations, trace.violations[:5]
    for k, words in enumerate(commands):
        c = trace.cmds[k]
        want = model.execute(words)
        what = f"command {k} ({kinds[k] if kinds else ''}) {[hex(w) for w in words[:6]]}"
        assert reply_matches(want.reply, c.reply), \
            f"{what}: reply {[hex(w) for w in c.reply[:6]]}, model {want.reply[:6]}"
        assert c.writes == want.writes, f"{what}: writes {c.writes[:4]}, model {want.writes[:4]}"
        assert c.runs == want.runs, f"{what}: runs {c.runs}, model {want.runs}"
        assert list(c.lr) == model.lr, f"{what}: lr {c.lr}, model {model.lr}"
        assert c.error == model.error, f"{what}: error {c.error}, model {model.error}"
        if dumps and c.dump is not None:
            assert c.dump == model.mems, f"{what}: memory contents differ from the model"
    if dumps:
        assert trace.final_dump == model.mems


def run_commands(commands, setup=SETUP, **kw):
    """Simulate and check against the model; returns (trace, model)."""
    init = kw.pop("init", None) or setup.init()
    trace = simulate(commands, setup, init=init, **kw)
    model = model_for(setup, init)
    check_trace(trace, commands, model)
    return trace, model


H = Host()


def results(cmds: list[Command], traces: list[CmdTrace]):
    """Decoded results (or the ProtocolError raised) of each Command."""
    out = []
    for cmd, c in zip(cmds, traces):
        status, _ = parse_reply_header(c.reply[0])
        try:
            out.append(cmd.decode(status, c.reply[1:]))
        except ProtocolError as e:
            out.append(e)
    return out


# -- happy paths ----------------------------------------------------------------------------

def test_nop_status_clear_error():
    cmds = [H.nop(), H.status(), H.clear_error(), H.nop()]
    trace, _ = run_commands([c.words for c in cmds])
    assert results(cmds, trace.cmds) == [None, (Err.OK, 0), None, None]
    assert [c.reply for c in trace.cmds] == [[reply_header(0, 0)], [reply_header(0, 2), 0, 0],
                                             [reply_header(0, 0)], [reply_header(0, 0)]]


def test_write_read_roundtrip_every_memory():
    g = random.Random(3)
    init = SETUP.init()
    cmds, want = [], []
    for mem in sorted(READ_WRITE):
        d = DEPTHS[mem]
        vals = [g.randint(-(1 << 31), (1 << 31) - 1) for _ in range(d)]
        if mem == Mem.PROGRAM:
            vals[0] = PROG_OK_WORD
        cmds += [H.write(mem, 0, vals[:d // 2]), H.write(mem, d // 2, vals[d // 2:]),
                 H.read(mem, 0, d), H.read(mem, d - 1, 1), H.read(mem, d, 0)]
        want += [None, None, [to_signed32(v) for v in vals], [to_signed32(vals[-1])], []]
    for mem in sorted(READ_ONLY):
        d = DEPTHS[mem]
        cmds.append(H.read(mem, 1, d - 1))
        want.append([to_signed32(v) for v in init[mem][1:]])
    trace, _ = run_commands([c.words for c in cmds], init=init, seed=5,
                            dump=lambda k: True)
    assert results(cmds, trace.cmds) == want


def test_set_lr_bounds_and_atomicity():
    (wl, wh), (tl, th), (gl, gh) = LR_RANGES
    cmds = [H.set_lr(wl, tl, gl), H.set_lr(wh, th, gh), H.set_lr(wh, th, gh + 1),
            H.set_lr(7, 9, 11)]
    trace, model = run_commands([c.words for c in cmds])
    assert [c.lr for c in trace.cmds] == [(wl, tl, gl), (wh, th, gh), (wh, th, gh), (7, 9, 11)]
    assert trace.cmds[2].error == Err.BAD_VALUE


def test_infer_and_train_count_samples():
    cmds = [H.infer(), H.train(3), H.train(9), H.infer(), H.train(0), H.status()]
    trace, _ = run_commands([c.words for c in cmds])
    got = results(cmds, trace.cmds)
    assert got[:5] == [fake_cycles(1, 0, 0), fake_cycles(2, 1, 3), fake_cycles(3, 1, 9),
                       fake_cycles(4, 0, 0), fake_cycles(5, 1, 0)]
    assert got[5] == (Err.OK, 3)
    assert [r for c in trace.cmds for r in c.runs] == [(0, 0), (1, 3), (1, 9), (0, 0), (1, 0)]


def test_full_rate_writes_and_reads():
    """No idle cycles, no back-pressure: one data word per cycle in and out."""
    vals = list(range(100, 140))
    cmds = [H.write(Mem.WEIGHTS, 0, vals), H.read(Mem.WEIGHTS, 0, 40), H.nop(), H.nop()]
    trace, _ = run_commands([c.words for c in cmds], idle=0, backpressure=0)
    rc = trace.cmds[1].reply_cycles
    # the first word 2 cycles after the header (read in EXEC, registered, buffered), then
    # one a cycle
    assert rc == [rc[0]] + list(range(rc[0] + 2, rc[0] + 42)), \
        "READ reply not at one word per cycle"
    # a command's reply header comes 2 cycles after its last word; the next header is taken
    # the cycle after the reply's last word
    assert trace.cmds[3].reply_cycles[0] - trace.cmds[2].reply_cycles[0] == 3
    assert results(cmds, trace.cmds)[1] == vals


@pytest.mark.parametrize("backpressure", [0.5, 0.8])
def test_large_read_under_backpressure(backpressure):
    setup = Setup({**DEPTHS, Mem.WEIGHTS: 700})
    g = random.Random(7)
    vals = [g.getrandbits(32) for _ in range(700)]
    cmds = [H.write(Mem.WEIGHTS, 0, vals), H.read(Mem.WEIGHTS, 0, 700),
            H.read(Mem.WEIGHTS, 333, 300), H.status()]
    trace, _ = run_commands([c.words for c in cmds], setup, backpressure=backpressure,
                            idle=0.1, seed=int(backpressure * 10))
    got = results(cmds, trace.cmds)
    assert got[1] == [to_signed32(v) for v in vals]
    assert got[2] == [to_signed32(v) for v in vals[333:633]]
    assert got[3] == (Err.OK, 0)


def test_memory_accesses_do_not_wait_on_reply_ready():
    """The memory port (``mem_re``, ``mem_sel``, ``mem_addr``) is a function of registers
    only: the host's ``o.ready`` never reaches a memory's read address in the same cycle (it
    was the core's critical path). Each cycle of a READ under back-pressure is settled with
    ``o.ready`` low and high, and the port must read the same."""
    setup = Setup({**DEPTHS, Mem.WEIGHTS: 100})
    bench = Bench(setup, setup.init())
    dut = bench.dut
    cmd = H.read(Mem.WEIGHTS, 10, 80)
    rng = random.Random(3)
    seen = {"reads": 0, "words": 0}

    async def tb(ctx):
        ctx.set(dut.i.valid, 1)
        for w in cmd.words:  # the first word is read as the last payload word arrives
            ctx.set(dut.i.payload, w)
            accepted = False
            while not accepted:
                accepted = ctx.get(dut.i.ready)
                seen["reads"] += ctx.get(dut.mem_re)
                await ctx.tick()
        ctx.set(dut.i.valid, 0)
        for _ in range(400):
            port = []
            for ready in (0, 1):
                ctx.set(dut.o.ready, ready)
                port.append((ctx.get(dut.mem_re), ctx.get(dut.mem_sel), ctx.get(dut.mem_addr)))
            assert port[0] == port[1], f"memory port follows o.ready: {port}"
            ready = rng.random() < 0.5
            ctx.set(dut.o.ready, ready)
            seen["reads"] += port[0][0]
            seen["words"] += bool(ready and ctx.get(dut.o.valid))
            await ctx.tick()

    sim = Simulator(bench)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert seen == {"reads": 80, "words": 81}  # the header and 80 words, each word read once


# -- errors ---------------------------------------------------------------------------------

W, R = Mem.WEIGHTS, Mem.READOUT
ERROR_CASES = {
    "unknown op": ([header(0x7F, 3), 1, 2, 3], Err.UNKNOWN_OP),
    "unknown op 0xFF no payload": ([header(0xFF)], Err.UNKNOWN_OP),
    "NOP with payload": ([header(Op.NOP, 2), header(Op.NOP), header(Op.NOP)], Err.BAD_LENGTH),
    "WRITE count 0": ([header(Op.WRITE)], Err.BAD_LENGTH),
    "READ count 3": ([header(Op.READ, 3), W << 24, 1, 0], Err.BAD_LENGTH),
    "READ count 1": ([header(Op.READ, 1), W << 24], Err.BAD_LENGTH),
    "SET_LR count 2": ([header(Op.SET_LR, 2), 5, 5], Err.BAD_LENGTH),
    "INFER with payload": ([header(Op.INFER, 1), 0], Err.BAD_LENGTH),
    "TRAIN count 0": ([header(Op.TRAIN)], Err.BAD_LENGTH),
    "STATUS with payload": ([header(Op.STATUS, 1), 0], Err.BAD_LENGTH),
    "CLEAR_ERROR with payload": ([header(Op.CLEAR_ERROR, 1), 0], Err.BAD_LENGTH),
    "WRITE read-only": (H.write(R, 0, [1, 2]).words, Err.BAD_MEM),
    "WRITE unknown id": (H.write(9, 0, [1, 2]).words, Err.BAD_MEM),
    "WRITE id 0x80": (H.write(0x80, 0, [1]).words, Err.BAD_MEM),
    "READ unknown id": (H.read(15, 0, 1).words, Err.BAD_MEM),
    "READ id 0x14": (H.read(0x14, 0, 1).words, Err.BAD_MEM),
    "WRITE past end": (H.write(W, 39, [1, 2]).words, Err.BAD_ADDRESS),
    "WRITE addr > depth": (H.write(W, 41, []).words, Err.BAD_ADDRESS),
    "WRITE addr max": (H.write(W, (1 << 24) - 1, [5]).words, Err.BAD_ADDRESS),
    "READ past end": (H.read(R, 10, 11).words, Err.BAD_ADDRESS),
    "READ addr > depth": (H.read(R, 21, 0).words, Err.BAD_ADDRESS),
    "READ n huge": ([header(Op.READ, 2), R << 24, 0xFFFFFFFF], Err.BAD_ADDRESS),
    # the decoder's address and length registers are as wide as the largest depth (40: 6
    # bits); each of these is in range in its low 6 bits
    "WRITE addr 64 + 1": (H.write(W, 65, [1]).words, Err.BAD_ADDRESS),
    "WRITE count 64 + 1": ([header(Op.WRITE, 66), W << 24] + [1] * 65, Err.BAD_ADDRESS),
    "READ addr 64 + 1": (H.read(R, 65, 1).words, Err.BAD_ADDRESS),
    "READ addr 2**23 + 1": (H.read(R, (1 << 23) + 1, 1).words, Err.BAD_ADDRESS),
    # the first word is read as the length arrives: the address register wraps to 0
    "READ addr 64 - 1": (H.read(R, 63, 2).words, Err.BAD_ADDRESS),
    "READ n 64 + 1": (H.read(R, 0, 65).words, Err.BAD_ADDRESS),
    "READ n 2**23": (H.read(R, 0, 1 << 23).words, Err.BAD_ADDRESS),
    "SET_LR w low": (H.set_lr(1, 8, 10).words, Err.BAD_VALUE),
    "SET_LR th high": (H.set_lr(5, 21, 10).words, Err.BAD_VALUE),
    "SET_LR g high": (H.set_lr(5, 8, 31).words, Err.BAD_VALUE),
    "SET_LR g huge": (H.set_lr(5, 8, 0x80000004).words, Err.BAD_VALUE),
    "TRAIN label = n_classes": (H.train(10).words, Err.BAD_VALUE),
    "TRAIN label 2**16": (H.train(1 << 16).words, Err.BAD_VALUE),
    "TRAIN label huge": (H.train(0xFFFFFFFF).words, Err.BAD_VALUE),
}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_error_changes_nothing_and_decoder_stays_in_sync(name):
    words, code = ERROR_CASES[name]
    before = [H.set_lr(7, 9, 11), H.train(2), H.status()]
    after = [H.nop(), H.status(), H.read(W, 0, 3), H.clear_error(), H.status()]
    cmds = [c.words for c in before] + [words] + [c.words for c in after]
    e = len(before)
    trace, model = run_commands(cmds, dump=lambda k: k in (e - 1, e), seed=len(name))
    prev, err = trace.cmds[e - 1], trace.cmds[e]
    assert err.reply == [reply_header(code, 0)]
    assert err.dump == prev.dump, "a memory word changed"
    assert err.lr == prev.lr == (7, 9, 11)
    assert err.writes == [] and err.runs == []
    assert err.error == code
    got = results([Command(words)] + after, trace.cmds[e:])
    assert isinstance(got[0], ProtocolError) and got[0].name == code.name
    assert got[1] is None
    assert got[2] == (code, 1)  # the error, and the one sample trained before
    # the next READ returns the memory's words (none left over from the failed command: a
    # READ reads its first word before EXEC decides)
    assert got[3] == [to_signed32(v) for v in err.dump[W][:3]]
    assert got[5] == (Err.OK, 1)


def test_no_program():
    cmds = [H.write(Mem.PROGRAM, 0, [10]), H.infer(), H.train(1), H.train(99), H.status(),
            H.write(Mem.PROGRAM, 0, [PROG_OK_WORD & ~0xF | 4]), H.train(4), H.train(3),
            H.status()]
    trace, _ = run_commands([c.words for c in cmds], dump=lambda k: True)
    got = results(cmds, trace.cmds)
    for k in (1, 2, 3):  # NO_PROGRAM is checked before the label
        assert isinstance(got[k], ProtocolError) and got[k].code == Err.NO_PROGRAM
        assert trace.cmds[k].runs == []
    assert got[4] == (Err.NO_PROGRAM, 0)
    assert isinstance(got[6], ProtocolError) and got[6].code == Err.BAD_VALUE
    assert got[7] == fake_cycles(1, 1, 3)
    assert got[8] == (Err.BAD_VALUE, 1)


def test_absent_memory_ids_are_unknown():
    setup = Setup({Mem.WEIGHTS: 8, Mem.READOUT: 3})
    cmds = [H.write(Mem.GAINS, 0, [1]), H.read(Mem.CYCLES, 0, 1), H.read(Mem.READOUT, 0, 3),
            H.write(Mem.WEIGHTS, 0, [1] * 8), H.infer()]
    trace, _ = run_commands([c.words for c in cmds], setup)
    got = results(cmds, trace.cmds)
    assert [getattr(r, "code", None) for r in got[:2]] == [Err.BAD_MEM, Err.BAD_MEM]
    assert got[3] is None and got[4] == fake_cycles(1, 0, 0)


def test_missing_reply_times_out():
    """An engine that never finishes: the harness fails with a timeout, it does not hang."""
    with pytest.raises(SimTimeout, match="waiting for the reply to command 1"):
        simulate([H.nop().words, H.infer().words, H.nop().words], never_done=True, timeout=200)


# -- fuzzing --------------------------------------------------------------------------------

def test_fuzz_against_reference_model():
    """2,000 random valid and malformed commands: every reply, write, run and register as the
    reference model says; every memory compared after every 25th command and after errors."""
    fz = Fuzzer(2024, *SETUP.args()[:4], max_data=20)
    drawn = list(fz.commands(2000))
    kinds, commands = [k for k, _ in drawn], [w for _, w in drawn]
    init = SETUP.init()
    probe = model_for(SETUP, init)
    statuses = [probe.execute(w).status for w in commands]
    t0 = time.perf_counter()
    trace = simulate(commands, init=init, seed=11, idle=0.25, backpressure=0.35,
                     dump=lambda k: k % 25 == 0 or statuses[k] != 0)
    check_trace(trace, commands, model_for(SETUP, init), kinds)
    seen = set(statuses)
    assert seen == set(Err), f"statuses never produced: {set(Err) - seen}"
    print(f"fuzz: {len(commands)} commands, {trace.cycles} cycles, "
          f"{time.perf_counter() - t0:.1f} s")


def test_fuzzer_is_seeded():
    a = list(Fuzzer(5, *SETUP.args()[:4]).commands(50))
    b = list(Fuzzer(5, *SETUP.args()[:4]).commands(50))
    c = list(Fuzzer(6, *SETUP.args()[:4]).commands(50))
    assert a == b != c


def test_run_fuzz_over_model_transport():
    """The transport-level fuzz loop and SyncHost against the model (no simulator)."""
    init = SETUP.init()
    stats = run_fuzz(ModelTransport(model_for(SETUP, init)), model_for(SETUP, init),
                     Fuzzer(1, *SETUP.args()[:4]), 3000)
    assert sum(stats.values()) == 3000


# -- host driver ----------------------------------------------------------------------------

def test_sync_host_over_model():
    host = SyncHost(ModelTransport(model_for(SETUP, SETUP.init())))
    host.nop()
    host.write(Mem.GAINS, 2, [-1, 5, -(1 << 31)])
    assert host.read(Mem.GAINS, 2, 3) == [-1, 5, -(1 << 31)]
    host.set_lr(3, 4, 5)
    assert host.train(4) == fake_cycles(1, 1, 4)
    with pytest.raises(ProtocolError) as e:
        host.read(Mem.GAINS, 11, 2)
    assert e.value.code == Err.BAD_ADDRESS and e.value.name == "BAD_ADDRESS"
    with pytest.raises(ProtocolError, match="BAD_MEM"):
        host.write(Mem.COUNTS, 0, [1])
    assert host.status() == (Err.BAD_MEM, 1)
    host.clear_error()
    assert host.status() == (Err.OK, 1)
    assert host.read(Mem.GAINS, 0, 0) == []


def test_command_decode_framing():
    with pytest.raises(MalformedReply):
        H.read(W, 0, 2).decode(0, [1])
    with pytest.raises(MalformedReply):
        H.nop().decode(Err.BAD_LENGTH, [1])
    with pytest.raises(ProtocolError) as e:
        H.nop().decode(0x42, [])
    assert e.value.name == "UNKNOWN_STATUS_0x42"
    assert H.read(W, 0, 2).decode(0, [0xFFFFFFFF, 7]) == [-1, 7]
    assert H.write(W, 3, [-1, 1]).words == [header(Op.WRITE, 3), 3, 0xFFFFFFFF, 1]
    for bad in (lambda: header(1, 1 << 24), lambda: H.read(W, 1 << 24, 1),
                lambda: H.write(256, 0, []), lambda: H.train(-1)):
        with pytest.raises(ValueError):
            bad()


# -- construction and conversion ------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"depths": {16: 4}}, {"depths": {0: 0}}, {"depths": {0: 1 << 24}},
    {"writable": {0, 5}, "depths": {0: 4}}, {"lr_ranges": ((0, 64), (0, 1), (0, 1))},
    {"lr_ranges": ((3, 2), (0, 1), (0, 1))}, {"lr_init": (30, 8, 10)},
])
def test_constructor_rejects(change):
    args = dict(zip(("depths", "writable", "readable", "lr_ranges", "lr_init"), SETUP.args()))
    args.update(change)
    if "depths" in change and "writable" not in change:
        args["writable"] = args["readable"] = set()
    with pytest.raises(ValueError):
        HostInterface(**args)


def test_converts_to_verilog():
    text = verilog.convert(HostInterface(*SETUP.args()), name="host_interface")
    assert "module host_interface" in text
    for port in ("mem_sel", "mem_addr", "mem_wdata", "mem_we", "mem_re", "mem_rdata", "run",
                 "train", "label", "done", "cycles", "prog_ok", "n_classes", "lr_w", "lr_th",
                 "lr_g", "error", "i__payload", "o__ready"):
        assert port in text, port
