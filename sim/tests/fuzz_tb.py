"""cocotb test: the protocol fuzzer (sim/fuzz.py) against the whole generated core.

Random valid and malformed commands go over the core's host stream (idle cycles on the
command stream, back-pressure on the reply stream); every reply is checked against a
reference model of the protocol (:class:`CoreReference`, a :class:`sim.fuzz.ReferenceDecoder`
that knows the core's memory widths and its program check). The memories the reference
tracks are read back and compared every ``every`` commands, after every error status (a
rejected command must change nothing but the sticky error) and after every run.

Runs (INFER, TRAIN) compute values the reference does not model: after a successful run the
engine-written memories are read back into the reference (resynchronised): READOUT, COUNTS
and CYCLES after every run, WEIGHTS, THRESHOLDS and GAINS after TRAIN only (an INFER must
leave them unchanged, which is compared). The run's reply word must equal CYCLES[0].
Run correctness itself is checked by core_tb.py against the golden models.

The core starts with the config's compiled program, random parameters and frames; between
the fuzzer's commands (whose random writes also break the program: NO_PROGRAM) the compiled
program is written back now and then, and random programs that pass the engine's program
check (any shapes within the capacity, any weight base: every such run must end) or fail it
by one field. A missing reply word fails the test (cocotb ``with_timeout``), never hangs it.

tb_args: ``config`` (dict), ``seed``, ``n`` (fuzzer commands), ``idle``, ``backpressure``,
``every`` (commands between full comparisons, default 50), ``flaw`` (None, or the name of a
deliberate error of the reference, to show the checks bite: :data:`FLAWS`), ``run_limit``
(cycles a run may take; default :func:`max_run_cycles`, a generous bound for any program the
core accepts) and ``slack`` (cycles a reply may take beyond that, default :data:`SLACK`).
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque

import cocotb
from cocotb.triggers import SimTimeoutError, with_timeout
from cocotb.utils import get_sim_time

from golden.learner import lr_shifts
from rtl_gen.config import parse_config
from rtl_gen.core import lr_ranges
from rtl_gen.engine import host_depths
from rtl_gen.isa import WORDS_PER_LAYER, compile_network
from rtl_gen.memory_map import MemoryMap
from rtl_gen.protocol import (COUNT_LIMIT, MASK32, READ_ONLY, READ_WRITE, Err, Mem, Op,
                              header, parse_header, parse_reply_header)
from sim.fuzz import Fuzzer, ReferenceDecoder
from sim.runner import tb_args, tb_report
from sim.tb import CLOCK_NS, TB

#: Deliberate errors of the reference (for the test that shows the checks bite).
FLAWS = {
    "accept_rejected_write": "a WRITE rejected with BAD_ADDRESS still writes its in-range words",
    "stale_error": "BAD_LENGTH does not set the sticky error register",
}

#: Cycles a reply header may take beyond a run (a few cycles plus back-pressure; the chance
#: of 64 not-ready cycles in a row at back-pressure 0.3 is 1e-34).
SLACK = 64

#: Memories compared in a full readback, in this order.
TRACKED = (Mem.WEIGHTS, Mem.THRESHOLDS, Mem.GAINS, Mem.FRAMES, Mem.PROGRAM, Mem.READOUT,
           Mem.COUNTS, Mem.CYCLES)
#: Memories a TRAIN run writes (resynchronised after it); READ_ONLY ones after every run.
TRAINED = (Mem.WEIGHTS, Mem.THRESHOLDS, Mem.GAINS)


def _sext(word: int, bits: int) -> int:
    word &= (1 << bits) - 1
    return (word - (1 << bits) if word >> (bits - 1) else word) & MASK32


def _name(status: int) -> str:
    return Err(status).name if status in Err._value2member_map_ else f"status {status:#x}"


def _mem_name(mem: int) -> str:
    return Mem(mem).name if mem in Mem._value2member_map_ else f"mem{mem}"


class CoreReference(ReferenceDecoder):
    """The protocol of the core of ``cfg``: memory depths, which ids are writable, the
    learning-rate ranges, what a memory word keeps of a written word (weights ``w_bits``,
    thresholds and gains ``v_bits``, sign-extended on read) and the engine's program check
    (``prog_ok``, ``n_classes``, as in rtl_gen/engine.py). All memories start at zero.

    ``flaw`` (a key of :data:`FLAWS`) makes the model deliberately wrong."""

    def __init__(self, cfg, flaw: str | None = None):
        super().__init__(host_depths(cfg), READ_WRITE, READ_WRITE | READ_ONLY, lr_ranges(cfg),
                         lr_shifts(cfg, 1))
        self.mm = mm = MemoryMap.of(cfg)
        self.widths = {Mem.WEIGHTS: cfg.fixed.w_bits, Mem.THRESHOLDS: cfg.fixed.v_bits,
                       Mem.GAINS: cfg.fixed.v_bits}
        self.lanes, self.max_width, self.cap_groups = mm.lanes, mm.max_width, mm.cap_groups
        self.max_layers, self.max_timesteps = mm.max_layers, mm.max_timesteps
        self.neuron_rows = mm.neuron_capacity
        self.recip_bits = cfg.fixed.recip_bits
        if flaw is not None and flaw not in FLAWS:
            raise ValueError(f"flaw must be one of {sorted(FLAWS)}, not {flaw!r}")
        self.flaw = flaw

    def stored(self, mem: int, word: int) -> int:
        """The word READ returns after ``word`` was written to ``mem``."""
        bits = self.widths.get(mem)
        return _sext(word, bits) if bits else word & MASK32

    # -- the engine's program check (rtl_gen/engine.py, "program registers") ----------------
    def program_fields(self):
        p = self.mems[Mem.PROGRAM]
        T, K = p[0] & 0xFF, p[0] >> 8 & 0xFF
        layers = []
        for l in range(self.max_layers):
            w0, w1 = p[1 + WORDS_PER_LAYER * l], p[2 + WORDS_PER_LAYER * l]
            w3 = p[4 + WORDS_PER_LAYER * l]
            # n_in n_out g hbase recip
            layers.append((w0 & 0xFFFF, w0 >> 16, w1 & 0xFFFF, w1 >> 16, w3))
        return T, K, layers

    def engine_prog_ok(self) -> bool:
        T, K, layers = self.program_fields()
        if not (1 <= T <= self.max_timesteps and 2 <= K <= self.max_layers):
            return False
        mw, cg = self.max_width, self.cap_groups
        return all(1 <= n_in <= mw and 1 <= n_out <= mw and 1 <= g <= cg
                   and g * self.lanes >= n_out and hbase + g <= self.neuron_rows
                   and recip <= 1 << self.recip_bits
                   for n_in, n_out, g, hbase, recip in layers[:K])

    def engine_n_classes(self) -> int:
        _, K, layers = self.program_fields()
        return layers[K - 1][1]

    # -- the decoder -----------------------------------------------------------------------
    def execute(self, words):
        words = [int(w) & MASK32 for w in words]
        status = self.check(words)
        op, count = parse_header(words[0])
        if self.flaw == "accept_rejected_write" and op == Op.WRITE and status == Err.BAD_ADDRESS:
            mem, addr = words[1] >> 24, words[1] & (COUNT_LIMIT - 1)
            for k, w in enumerate(words[2:]):
                if addr + k < self.depths[mem]:
                    self.mems[mem][addr + k] = self.stored(mem, w)
        error = self.error
        eff = super().execute(words)
        if self.flaw == "stale_error" and status == Err.BAD_LENGTH:
            self.error = error
        for mem, addr, w in eff.writes:
            self.mems[mem][addr] = self.stored(mem, w)
        return eff


class ProgramMaker:
    """Programs for the fuzz: the config's compiled one, random ones that pass the engine's
    check (any shapes and bases within the capacity, any weight base and reciprocal), and
    near misses that fail exactly one field of the check (so INFER / TRAIN give NO_PROGRAM)."""

    def __init__(self, cfg, rng: random.Random):
        self.mm, self.rng = MemoryMap.of(cfg), rng
        self.depth = host_depths(cfg)[Mem.PROGRAM]
        self.compiled = compile_network(cfg).words()
        self.recip_bits = cfg.fixed.recip_bits

    def _pad(self, words):
        return words + [self.rng.getrandbits(32) for _ in range(self.depth - len(words))]

    def random_ok(self) -> list[int]:
        r, mm = self.rng, self.mm
        T, K = r.randint(1, mm.max_timesteps), r.randint(2, mm.max_layers)
        words = [T | K << 8 | r.getrandbits(16) << 16]
        for _ in range(K):
            n_in, n_out = r.randint(1, mm.max_width), r.randint(1, mm.max_width)
            g = r.randint(-(-n_out // mm.lanes), mm.cap_groups)
            hbase = r.randint(0, mm.neuron_capacity - g)
            wbase = r.choice([0, r.randrange(mm.weight_capacity), r.getrandbits(24)])
            words += [n_in | n_out << 16, g | hbase << 16, wbase | r.getrandbits(8) << 24,
                      r.randint(0, 1 << self.recip_bits)]
        return self._pad(words)

    def near_miss(self) -> list[int]:
        """A random valid program with one field just out of its range."""
        r, mm = self.rng, self.mm
        words = self.random_ok()
        K = words[0] >> 8 & 0xFF
        l = r.randrange(K)
        w0, w1 = 1 + WORDS_PER_LAYER * l, 2 + WORDS_PER_LAYER * l
        n_out, g = words[w0] >> 16, words[w1] & 0xFFFF
        what = r.choice(["T0", "T", "K1", "K", "n_in0", "n_in", "n_out0", "n_out", "g0", "g",
                         "g_small", "hbase", "recip"])
        if what in ("T0", "T"):
            words[0] = words[0] & ~0xFF | (0 if what == "T0" else mm.max_timesteps + 1)
        elif what in ("K1", "K"):
            words[0] = words[0] & ~0xFF00 | (1 if what == "K1" else mm.max_layers + 1) << 8
        elif what in ("n_in0", "n_in"):
            words[w0] = words[w0] & ~0xFFFF | (0 if what == "n_in0" else mm.max_width + 1)
        elif what in ("n_out0", "n_out"):
            words[w0] = words[w0] & 0xFFFF | (0 if what == "n_out0" else mm.max_width + 1) << 16
        elif what in ("g0", "g"):
            words[w1] = words[w1] & ~0xFFFF | (0 if what == "g0" else mm.cap_groups + 1)
        elif what == "recip":
            words[4 + WORDS_PER_LAYER * l] = (1 << self.recip_bits) + 1
        elif what == "g_small" and n_out > mm.lanes:
            words[w1] = words[w1] & ~0xFFFF | (-(-n_out // mm.lanes) - 1)
        else:  # hbase + g one past the neuron rows
            words[w1] = words[w1] & 0xFFFF | (mm.neuron_capacity - g + 1) << 16
        return words


class FuzzFailure(AssertionError):
    pass


class CoreFuzz:
    """Drives the core with commands, checks each reply, compares and resynchronises."""

    def __init__(self, tb: TB, ref: CoreReference, seed: int, max_run_cycles: int):
        self.tb, self.ref, self.seed = tb, ref, seed
        self.max_run_cycles = max_run_cycles
        self.slack = SLACK
        self.history: deque = deque(maxlen=6)
        self.statuses: Counter = Counter()  # of the checked (fuzz and setup) commands
        self.kinds: Counter = Counter()
        self.commands = self.readback_commands = 0
        self.runs = self.infers = self.trains = 0
        self.runs_other_program = 0  # runs of a program other than the config's compiled one
        self.max_cycles = 0  # the longest run
        self.compiled: list[int] = []
        self.readbacks: Counter = Counter()  # full comparisons by reason
        self.words_in = self.words_out = 0

    def fail(self, msg: str):
        hist = "\n".join(f"  #{i} {k}: {' '.join(f'{w:#x}' for w in ws[:10])}"
                         f"{' ...' if len(ws) > 10 else ''} -> {st}"
                         for i, k, ws, st in self.history)
        raise FuzzFailure(f"seed {self.seed}: {msg}\nlast commands:\n{hist}")

    # -- one command over the stream --------------------------------------------------------
    async def transact(self, words: list[int], what: str, want_head: int,
                       run: bool = False) -> list[int]:
        """Send ``words``, return the whole reply (header first). A word not taken, a missing
        reply word or a header other than ``want_head`` fails (the data words of a wrong
        header are not waited for)."""
        tb = self.tb
        limit = self.slack + 20 * len(words)
        try:
            await with_timeout(tb.send(words), limit * CLOCK_NS, "ns")
        except SimTimeoutError:
            self.fail(f"{what}: the core did not take its {len(words)} words within "
                      f"{limit} cycles")
        limit = self.slack + (self.max_run_cycles if run else 0)
        try:
            (head,) = await with_timeout(tb.receive(1), limit * CLOCK_NS, "ns")
        except SimTimeoutError:
            self.fail(f"{what}: no reply header within {limit} cycles")
        status, n = parse_reply_header(head)
        if head != want_head:
            ws, wn = parse_reply_header(want_head)
            self.fail(f"{what}: reply header {head:#x} ({_name(status)}, {n} words), reference "
                      f"{want_head:#x} ({_name(ws)}, {wn} words)")
        data = []
        if n:
            limit = self.slack + 20 * n
            try:
                data = await with_timeout(tb.receive(n), limit * CLOCK_NS, "ns")
            except SimTimeoutError:
                self.fail(f"{what}: reply header {head:#x} but not its {n} data words "
                          f"within {limit} cycles")
        self.words_in += len(words)
        self.words_out += 1 + n
        return [head] + data

    async def command(self, kind: str, words: list[int]) -> list[int]:
        """One checked command: reply against the reference; full readback after an error,
        resynchronisation after a run."""
        words = [int(w) & MASK32 for w in words]
        idx = self.commands
        self.commands += 1
        self.kinds[kind] += 1
        op = parse_header(words[0])[0]
        what = f"command #{idx} ({kind}) {' '.join(f'{w:#x}' for w in words[:10])}"
        want = self.ref.execute(words)
        self.history.append((idx, kind, words, _name(want.status)))
        got = await self.transact(words, what, want.reply[0], run=op in (Op.INFER, Op.TRAIN))
        status = parse_reply_header(got[0])[0]
        self.statuses[_name(status)] += 1
        for k, (w, g) in enumerate(zip(want.reply[1:], got[1:])):
            if w is not None and w != g:
                self.fail(f"{what}: reply word {k} is {g:#x}, reference {w:#x}")
        if status != Err.OK:
            await self.full_check("error", expect_error=status)
        elif want.runs:
            await self.after_run(op == Op.TRAIN, got[1], what)
        return got[1:]

    # -- readbacks ---------------------------------------------------------------------------
    async def read_mem(self, mem: int, what: str) -> list[int]:
        """Every word of ``mem`` (READ commands, also executed by the reference so it sees
        the same stream); the reference's prediction is returned separately by the caller."""
        depth = self.ref.depths[mem]
        out = []
        for addr in range(0, depth, 256):
            n = min(256, depth - addr)
            words = [header(Op.READ, 2), mem << 24 | addr, n]
            want = self.ref.execute(words)
            self.readback_commands += 1
            got = await self.transact(words, f"{what}: READ {_mem_name(mem)}[{addr}:{addr + n}]",
                                      want.reply[0])
            out += got[1:]
        return out

    async def full_check(self, reason: str, *, expect_error: int | None = None,
                         resync=(), what: str = ""):
        """Read every tracked memory back and compare it with the reference, except the
        memories in ``resync``, which are copied into it; then STATUS."""
        self.readbacks[reason] += 1
        what = what or f"full readback ({reason}) after command #{self.commands - 1}"
        for mem in TRACKED:
            got = await self.read_mem(mem, what)
            if mem in resync:
                self.ref.mems[mem] = got
                continue
            want = self.ref.mems[mem]
            bad = [a for a, (w, g) in enumerate(zip(want, got)) if w != g]
            if bad:
                shown = ", ".join(f"[{a}] core {got[a]:#x} reference {want[a]:#x}"
                                  for a in bad[:6])
                self.fail(f"{what}: {_mem_name(mem)} differs from the reference at "
                          f"{len(bad)} addresses: {shown}")
        words = [header(Op.STATUS)]
        want = self.ref.execute(words)
        self.readback_commands += 1
        got = await self.transact(words, f"{what}: STATUS", want.reply[0])
        if got != want.reply:
            self.fail(f"{what}: STATUS answered {[hex(w) for w in got]} (error, samples "
                      f"trained), reference {[hex(w) for w in want.reply]}")
        if expect_error is not None and got[1] != expect_error:
            self.fail(f"{what}: sticky error {got[1]:#x} after a {_name(expect_error)} reply")

    async def after_run(self, train: bool, cycles: int, what: str):
        """Resynchronise the engine-written memories; everything else must be unchanged."""
        self.runs += 1
        self.trains += train
        self.infers += not train
        prog = self.ref.mems[Mem.PROGRAM]
        self.runs_other_program += prog[:len(self.compiled)] != self.compiled
        self.max_cycles = max(self.max_cycles, cycles)
        resync = set(READ_ONLY) | (set(TRAINED) if train else set())
        await self.full_check("run", resync=resync, what=f"readback after {what}")
        total = self.ref.mems[Mem.CYCLES][0]
        if cycles != total or not 0 < cycles <= self.max_run_cycles:
            self.fail(f"{what}: the reply's cycle count {cycles} and CYCLES[0] {total} differ "
                      f"or are out of (0, {self.max_run_cycles}]")


def max_run_cycles(cfg) -> int:
    """A generous bound on any run of any program the core accepts: per step and layer, a
    forward pass over every (input, group) pair, a backward pass and an update of every
    group, times 8."""
    mm = MemoryMap.of(cfg)
    per_layer = (mm.max_width + 2) * mm.cap_groups * mm.lanes + 32
    return 8 * (2 * mm.max_timesteps + 1) * mm.max_layers * per_layer + 1000


@cocotb.test()
async def fuzz_core(dut):
    a = tb_args()
    cfg = parse_config(a["config"])
    seed, n, every = int(a.get("seed", 0)), int(a.get("n", 1000)), int(a.get("every", 50))
    tb = TB(dut, cfg, idle=a.get("idle", 0.0), backpressure=a.get("backpressure", 0.0),
            observe=False, seed=seed)
    await tb.start()
    t0, c0 = time.perf_counter(), get_sim_time("ns")
    ref = CoreReference(cfg, a.get("flaw"))
    fz = Fuzzer(seed, ref.depths, ref.writable, ref.readable, ref.lr_ranges,
                labels=cfg.n_out, max_data=a.get("max_data", 24))
    rng = random.Random(seed * 7919 + 1)
    progs = ProgramMaker(cfg, rng)
    fuzz = CoreFuzz(tb, ref, seed, int(a.get("run_limit") or max_run_cycles(cfg)))
    fuzz.compiled = progs.compiled
    fuzz.slack = int(a.get("slack", SLACK))

    def write(mem, addr, words):
        return [header(Op.WRITE, 1 + len(words)), mem << 24 | addr] + list(words)

    # reset state: everything zero; then the compiled program, random parameters and frames
    await fuzz.full_check("start")
    await fuzz.command("setup", write(Mem.PROGRAM, 0, progs.compiled))
    for mem in (Mem.WEIGHTS, Mem.THRESHOLDS, Mem.GAINS, Mem.FRAMES):
        await fuzz.command("setup", write(mem, 0, [rng.getrandbits(32)
                                                   for _ in range(ref.depths[mem])]))
    n_th = ref.depths[Mem.THRESHOLDS]  # thresholds that let some neurons fire
    await fuzz.command("setup", write(Mem.THRESHOLDS, 0, [rng.randint(200, 2000)
                                                          for _ in range(n_th)]))
    await fuzz.command("train", [header(Op.TRAIN, 1), 0])
    await fuzz.command("infer", [header(Op.INFER)])

    for i in range(n):
        x = rng.random()
        if x < 0.04:  # repair the program (the fuzzer's writes break it)
            await fuzz.command("program", write(Mem.PROGRAM, 0, progs.compiled))
        elif x < 0.06:
            await fuzz.command("random_program", write(Mem.PROGRAM, 0, progs.random_ok()))
        elif x < 0.07:
            await fuzz.command("near_miss_program", write(Mem.PROGRAM, 0, progs.near_miss()))
        kind, words = fz.command()
        await fuzz.command(kind, words)
        if (i + 1) % every == 0:
            await fuzz.full_check("periodic")
    await fuzz.full_check("end")

    seconds = time.perf_counter() - t0
    sim_cycles = int(get_sim_time("ns") - c0) // CLOCK_NS
    dut._log.info(f"fuzz: {fuzz.commands} commands, statuses {dict(fuzz.statuses)}, "
                  f"{fuzz.runs} runs, {sum(fuzz.readbacks.values())} full readbacks, "
                  f"{seconds:.1f} s")
    tb_report(commands=fuzz.commands, fuzz_commands=n, statuses=dict(fuzz.statuses),
              kinds=dict(fuzz.kinds), runs=fuzz.runs, infers=fuzz.infers, trains=fuzz.trains,
              runs_other_program=fuzz.runs_other_program, max_run_cycles=fuzz.max_cycles,
              readbacks=sum(fuzz.readbacks.values()), readbacks_by_reason=dict(fuzz.readbacks),
              readback_commands=fuzz.readback_commands, words_in=fuzz.words_in,
              words_out=fuzz.words_out, sim_cycles=sim_cycles, seconds=seconds,
              samples_trained=ref.samples)
