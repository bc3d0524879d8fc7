"""Command fuzzer and reference model of the host interface (docs/protocol.md).

* :class:`ReferenceDecoder` is the protocol in Python: given one command's words it returns
  the reply and the state changes (memory writes, runs) the decoder must make, and tracks
  memories, learning-rate shifts, the sticky error and the trained-samples counter. The
  engine's part (``prog_ok``, ``n_classes``, what a run returns and changes) comes from
  three methods that a subclass overrides to model a particular engine.
* :class:`Fuzzer` generates a seeded random mix of valid commands and malformed ones
  (unknown ops, wrong counts, bad memory ids, out-of-range addresses, shifts and labels,
  random payload words).
* :func:`run_fuzz` drives any transport with ``send(words)`` / ``recv(n)`` (a simulator, a
  serial port) and checks every reply against the model; :class:`ModelTransport` is such a
  transport backed by the model itself.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator, Sequence

from rtl_gen.protocol import (COUNT_LIMIT, MASK32, Err, Op, header, parse_header,
                              parse_reply_header, reply_header)

__all__ = ["Effects", "ReferenceDecoder", "Fuzzer", "FuzzMismatch", "ModelTransport",
           "run_fuzz", "reply_matches", "KINDS"]

_KNOWN_OPS = frozenset(int(o) for o in Op)
#: Required payload length of each fixed-length op (WRITE needs at least 1).
_FIXED_COUNT = {Op.NOP: 0, Op.READ: 2, Op.SET_LR: 3, Op.INFER: 0, Op.TRAIN: 1,
                Op.STATUS: 0, Op.CLEAR_ERROR: 0}


@dataclass
class Effects:
    """What one command must do.

    Attributes
    ----------
    status : int
        The reply status.
    reply : list[int | None]
        Every reply word, header first; None where the model cannot predict the value (a
        run's cycle count when :meth:`ReferenceDecoder.engine_run` returns None).
    writes : list[tuple[int, int, int]]
        ``(mem, addr, word)`` in order.
    runs : list[tuple[int, int]]
        ``(train, label)`` of each run started.
    """

    status: int
    reply: list
    writes: list = field(default_factory=list)
    runs: list = field(default_factory=list)


class ReferenceDecoder:
    """The host interface's behaviour, one whole command at a time.

    Parameters
    ----------
    depths, writable, readable, lr_ranges, lr_init
        As :class:`rtl_gen.host_interface.HostInterface`.
    init : dict[int, list[int]], optional
        Initial contents of memories (default all zero).
    prog_ok : bool, n_classes : int
        Engine state returned by :meth:`engine_prog_ok` and :meth:`engine_n_classes` unless a
        subclass overrides them.

    State: ``mems`` (id -> list of words), ``lr`` (list of three shifts), ``error``,
    ``samples``, ``runs`` (all ``(train, label)`` so far).
    """

    def __init__(self, depths, writable, readable, lr_ranges, lr_init, *, init=None,
                 prog_ok: bool = True, n_classes: int = 10):
        self.depths = {int(k): int(v) for k, v in depths.items()}
        self.writable = frozenset(int(k) for k in writable)
        self.readable = frozenset(int(k) for k in readable)
        self.lr_ranges = tuple((int(lo), int(hi)) for lo, hi in lr_ranges)
        init = init or {}
        self.mems = {k: [int(w) & MASK32 for w in init.get(k, [0] * d)]
                     for k, d in self.depths.items()}
        for k, d in self.depths.items():
            assert len(self.mems[k]) == d, f"init of memory {k}: {len(self.mems[k])} != {d}"
        self.lr = [int(v) for v in lr_init]
        self.error = 0
        self.samples = 0
        self.runs: list[tuple[int, int]] = []
        self.prog_ok = prog_ok
        self.n_classes = n_classes

    # -- the engine (override to model a particular one) ------------------------------
    def engine_prog_ok(self) -> bool:
        return bool(self.prog_ok)

    def engine_n_classes(self) -> int:
        return int(self.n_classes)

    def engine_run(self, train: int, label: int) -> int | None:
        """Perform a run (may change ``mems``); return its cycle count, or None if unknown."""
        return None

    # -- the decoder -----------------------------------------------------------------
    def check(self, words: Sequence[int]) -> int:
        """The status the decoder gives a command (``Err.OK`` if it executes); no effect."""
        op, count = parse_header(words[0])
        p = list(words[1:])
        assert len(p) == count, f"{len(p)} payload words for count {count}"
        if op not in _KNOWN_OPS:
            return Err.UNKNOWN_OP
        if (count == 0) if op == Op.WRITE else count != _FIXED_COUNT[op]:
            return Err.BAD_LENGTH
        if op in (Op.WRITE, Op.READ):
            mem, addr = p[0] >> 24, p[0] & (COUNT_LIMIT - 1)
            if mem not in (self.writable if op == Op.WRITE else self.readable):
                return Err.BAD_MEM
            n = count - 1 if op == Op.WRITE else p[1]
            if addr + n > self.depths[mem]:
                return Err.BAD_ADDRESS
        elif op == Op.SET_LR:
            if any(not lo <= v <= hi for v, (lo, hi) in zip(p, self.lr_ranges)):
                return Err.BAD_VALUE
        elif op in (Op.INFER, Op.TRAIN):
            if not self.engine_prog_ok():
                return Err.NO_PROGRAM
            if op == Op.TRAIN and p[0] >= self.engine_n_classes():
                return Err.BAD_VALUE
        return Err.OK

    def execute(self, words: Sequence[int]) -> Effects:
        """Apply one command (header and its whole payload); return what it must do."""
        words = [int(w) & MASK32 for w in words]
        status = self.check(words)
        if status != Err.OK:
            self.error = int(status)
            return Effects(int(status), [reply_header(status, 0)])
        op, count = parse_header(words[0])
        p = words[1:]
        eff = Effects(0, [reply_header(0, 0)])
        if op == Op.WRITE:
            mem, addr = p[0] >> 24, p[0] & (COUNT_LIMIT - 1)
            for k, w in enumerate(p[1:]):
                self.mems[mem][addr + k] = w
                eff.writes.append((mem, addr + k, w))
        elif op == Op.READ:
            mem, addr, n = p[0] >> 24, p[0] & (COUNT_LIMIT - 1), p[1]
            eff.reply = [reply_header(0, n)] + self.mems[mem][addr:addr + n]
        elif op == Op.SET_LR:
            self.lr = list(p)
        elif op in (Op.INFER, Op.TRAIN):
            train = int(op == Op.TRAIN)
            label = p[0] & 0xFFFF if train else 0
            cycles = self.engine_run(train, label)
            self.runs.append((train, label))
            eff.runs.append((train, label))
            self.samples = (self.samples + train) & MASK32
            eff.reply = [reply_header(0, 1), None if cycles is None else cycles & MASK32]
        elif op == Op.STATUS:
            eff.reply = [reply_header(0, 2), self.error, self.samples]
        elif op == Op.CLEAR_ERROR:
            self.error = 0
        return eff

    def snapshot(self) -> dict:
        """A deep copy of the whole state (for before/after comparisons)."""
        return copy.deepcopy({"mems": self.mems, "lr": self.lr, "error": self.error,
                              "samples": self.samples, "runs": self.runs})


def reply_matches(want: Sequence, got: Sequence[int]) -> bool:
    """Same length and every word equal where ``want`` is not None."""
    return len(want) == len(got) and all(w is None or w == g for w, g in zip(want, got))


#: Command kinds the fuzzer draws, with their weights.
KINDS = {
    "nop": 3, "write": 12, "read": 12, "set_lr": 4, "infer": 3, "train": 5, "status": 5,
    "clear_error": 2, "edge": 4,  # valid (the engine may still refuse a run)
    "unknown_op": 6, "bad_length": 8, "bad_mem": 6, "bad_address": 8, "bad_lr": 4,
    "bad_label": 4, "garbage": 4,  # malformed
}


class Fuzzer:
    """Seeded generator of command word lists, valid and malformed.

    Parameters
    ----------
    seed : int
    depths, writable, readable, lr_ranges
        As :class:`rtl_gen.host_interface.HostInterface`.
    max_data : int
        Most data words of a generated WRITE or READ (full-depth reads are drawn as well
        when a memory is at most ``4 * max_data`` deep).
    labels : int
        TRAIN labels are mostly drawn from ``[0, labels)``.
    max_junk : int
        Most payload words of a command with a wrong count or an unknown op.
    kinds : dict[str, int], optional
        Weights of :data:`KINDS` to use instead.
    """

    def __init__(self, seed, depths, writable, readable, lr_ranges, *, max_data: int = 24,
                 labels: int = 16, max_junk: int = 6, kinds: dict | None = None):
        self.rng = random.Random(seed)
        self.depths = {int(k): int(v) for k, v in depths.items()}
        self.writable = sorted(int(k) for k in writable)
        self.readable = sorted(int(k) for k in readable)
        self.lr_ranges = tuple(lr_ranges)
        self.max_data, self.labels, self.max_junk = max_data, labels, max_junk
        self.kinds = dict(kinds or KINDS)

    # -- pieces ------------------------------------------------------------------------
    def word(self) -> int:
        """A random payload word, often an edge value."""
        r = self.rng
        if r.random() < 0.25:
            return r.choice([0, 1, 0x7FFFFFFF, 0x80000000, MASK32, 0xFFFF, 0x10000, 0xFFFFFF])
        return r.getrandbits(32)

    def _span(self, depth: int) -> tuple[int, int]:
        """A valid (addr, n) in a memory of ``depth`` words."""
        r = self.rng
        if depth <= 4 * self.max_data and r.random() < 0.1:
            return 0, depth
        n = r.randint(0, min(depth, self.max_data))
        return r.randint(0, depth - n), n

    def _bad_span(self, depth: int) -> tuple[int, int]:
        """(addr, n) with ``addr + n > depth``, n small."""
        r = self.rng
        n = r.randint(0, self.max_data)
        if r.random() < 0.2:
            return r.randrange(depth + 1, COUNT_LIMIT), n
        lo = max(0, depth - n + 1)
        return r.randint(lo, min(COUNT_LIMIT - 1, lo + 3)), n

    def _absent_mem(self, allowed) -> int:
        r = self.rng
        pool = [k for k in range(16) if k not in allowed]
        if pool and r.random() < 0.7:
            return r.choice(pool)
        while True:
            k = r.randrange(256)
            if k not in allowed:
                return k

    def _lr_bad(self) -> list[int]:
        r = self.rng
        vals = [r.randint(lo, hi) for lo, hi in self.lr_ranges]
        k = r.randrange(3)
        lo, hi = self.lr_ranges[k]
        choices = [hi + 1, r.getrandbits(32) | (1 << 31), r.randint(hi + 1, 63) if hi < 63 else 64]
        if lo > 0:
            choices += [lo - 1, 0]
        vals[k] = r.choice(choices)
        return vals

    def _write(self, mem, addr, n) -> list[int]:
        return [header(Op.WRITE, 1 + n), mem << 24 | addr] + [self.word() for _ in range(n)]

    def _read(self, mem, addr, n) -> list[int]:
        return [header(Op.READ, 2), mem << 24 | addr, n]

    # -- commands ----------------------------------------------------------------------
    def command(self, kind: str | None = None) -> tuple[str, list[int]]:
        """``(kind, words)`` of one random command (``kind`` drawn by weight if None)."""
        r = self.rng
        if kind is None:
            kind = r.choices(list(self.kinds), weights=list(self.kinds.values()))[0]
        wr, rd = self.writable, self.readable
        if kind == "nop":
            w = [header(Op.NOP)]
        elif kind == "write" and wr:
            mem = r.choice(wr)
            w = self._write(mem, *self._span(self.depths[mem]))
        elif kind == "read" and rd:
            mem = r.choice(rd)
            w = self._read(mem, *self._span(self.depths[mem]))
        elif kind == "set_lr":
            w = [header(Op.SET_LR, 3)] + [r.randint(lo, hi) for lo, hi in self.lr_ranges]
        elif kind == "infer":
            w = [header(Op.INFER)]
        elif kind == "train":
            w = [header(Op.TRAIN, 1), r.randrange(self.labels)]
        elif kind == "status":
            w = [header(Op.STATUS)]
        elif kind == "clear_error":
            w = [header(Op.CLEAR_ERROR)]
        elif kind == "edge" and (wr or rd):  # no data words, at address 0 or at the end
            mem = r.choice(wr + rd)
            addr = r.choice([0, self.depths[mem]])
            w = (self._write(mem, addr, 0) if mem in wr and (mem not in rd or r.random() < 0.5)
                 else self._read(mem, addr, 0))
        elif kind == "unknown_op":
            op = r.choice([o for o in range(256) if o not in _KNOWN_OPS])
            n = r.randint(0, self.max_junk)
            w = [header(op, n)] + [self.word() for _ in range(n)]
        elif kind == "bad_length":
            op = r.choice(list(Op))
            if op == Op.WRITE:
                n = 0
            else:
                n = r.choice([c for c in range(self.max_junk + 1) if c != _FIXED_COUNT[op]])
            w = [header(op, n)] + [self.word() for _ in range(n)]
        elif kind == "bad_mem":
            if r.random() < 0.5:
                w = self._write(self._absent_mem(wr), r.randrange(8), r.randint(0, 4))
            else:
                w = self._read(self._absent_mem(rd), r.randrange(8), r.randint(0, 4))
        elif kind == "bad_address" and (wr or rd):
            mem = r.choice(wr + rd)
            addr, n = self._bad_span(self.depths[mem])
            if mem in rd and (mem not in wr or r.random() < 0.5):
                if r.random() < 0.2:
                    n = r.randrange(self.depths[mem] + 1, 1 << 32)  # a huge count
                w = self._read(mem, addr, n)
            else:
                w = self._write(mem, addr, n)
        elif kind == "bad_lr":
            w = [header(Op.SET_LR, 3)] + self._lr_bad()
        elif kind == "bad_label":
            label = r.choice([r.randint(self.labels, self.labels + 4), 0xFFFF, 0x10000,
                              r.getrandbits(32)])
            w = [header(Op.TRAIN, 1), label]
        else:  # garbage: any op, a small count, random payload
            n = r.randint(0, self.max_junk)
            w = [header(r.randrange(256), n)] + [self.word() for _ in range(n)]
            kind = "garbage"
        return kind, w

    def commands(self, n: int) -> Iterator[tuple[str, list[int]]]:
        for _ in range(n):
            yield self.command()


class FuzzMismatch(AssertionError):
    """A reply differed from the reference model's."""


def run_fuzz(transport, model: ReferenceDecoder, fuzzer: Fuzzer, n: int) -> Counter:
    """Send ``n`` fuzzer commands over ``transport`` (``send(words)``, ``recv(k)``) one at a
    time and check each reply against ``model``. Returns a Counter of
    ``(kind, status name)``. Raises :class:`FuzzMismatch` on the first difference.

    Only replies are visible here; a harness that sees the engine side should also compare
    each command's :class:`Effects` (writes, runs) and the model's registers."""
    stats: Counter = Counter()
    for i, (kind, words) in enumerate(fuzzer.commands(n)):
        want = model.execute(words)
        transport.send(words)
        (head,) = transport.recv(1)
        status, k = parse_reply_header(head)
        got = [head] + (transport.recv(k) if k else [])
        if not reply_matches(want.reply, got):
            raise FuzzMismatch(f"command {i} ({kind}) {[hex(w) for w in words[:8]]}: reply "
                               f"{[hex(w) for w in got[:8]]}, model "
                               f"{[None if w is None else hex(w) for w in want.reply[:8]]}")
        stats[kind, Err(status).name if status in Err._value2member_map_ else status] += 1
    return stats


class ModelTransport:
    """A transport whose device is a :class:`ReferenceDecoder` (unknown cycle counts read
    as 0): for testing host code without hardware."""

    def __init__(self, model: ReferenceDecoder):
        self.model = model
        self._in: list[int] = []
        self._out: list[int] = []

    def send(self, words: list[int]) -> None:
        self._in += [int(w) & MASK32 for w in words]
        while self._in:
            _, count = parse_header(self._in[0])
            if len(self._in) < 1 + count:
                break
            cmd, self._in = self._in[:1 + count], self._in[1 + count:]
            self._out += [0 if w is None else w for w in self.model.execute(cmd).reply]

    def recv(self, n: int) -> list[int]:
        if len(self._out) < n:
            raise TimeoutError(f"{n} words wanted, {len(self._out)} available")
        got, self._out = self._out[:n], self._out[n:]
        return got
