"""Host side of the command protocol (docs/protocol.md; the decoder is rtl_gen/host_interface.py).

Sans-IO: :class:`Host` turns calls into :class:`Command` objects (the words to send, how many
reply data words to expect, how to decode the reply); :class:`SyncHost` executes them at once
over any transport with ``send(words)`` and ``recv(n)`` (a serial port, a simulator, the
reference model of sim/fuzz.py).

Framing, both directions self-framing:

* command: header ``op << 24 | count``, then exactly ``count`` payload words;
* reply: header ``status << 24 | n``, then ``n`` data words (``n = 0`` when ``status != 0``).

Every command gets exactly one reply. An error changes nothing but the sticky error code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Callable, Protocol, Sequence

__all__ = ["Op", "Err", "Mem", "READ_WRITE", "READ_ONLY", "MASK32", "COUNT_LIMIT",
           "header", "parse_header", "reply_header", "parse_reply_header", "to_signed32",
           "ProtocolError", "MalformedReply", "Command", "Host", "SyncHost", "Transport",
           "words_to_bytes", "bytes_to_words", "execute_async"]

MASK32 = 0xFFFFFFFF
#: Counts (payload words, reply data words) are 24-bit fields: at most ``COUNT_LIMIT - 1``.
COUNT_LIMIT = 1 << 24


class Op(IntEnum):
    """Command opcodes (header bits 31..24)."""

    NOP = 0x00  # count 0; reply OK, no data (ping)
    WRITE = 0x01  # [mem << 24 | addr, d0, d1, ...]; reply OK, no data
    READ = 0x02  # [mem << 24 | addr, n]; reply OK + n words
    SET_LR = 0x03  # [w_shift, th_shift, g_shift]; reply OK, no data
    INFER = 0x10  # count 0; reply OK + 1 word: cycles
    TRAIN = 0x11  # [label]; reply OK + 1 word: cycles
    STATUS = 0x20  # count 0; reply OK + 2 words: error code, samples trained
    CLEAR_ERROR = 0x21  # count 0; reply OK, no data; error code := 0


class Err(IntEnum):
    """Reply status codes (reply header bits 31..24); also the sticky error register."""

    OK = 0
    UNKNOWN_OP = 1  # an opcode not in Op (its payload is skipped)
    BAD_LENGTH = 2  # a known opcode with the wrong count (its payload is skipped)
    BAD_MEM = 3  # WRITE to an unknown or read-only memory, READ of an unknown one
    BAD_ADDRESS = 4  # the words addressed run past the memory's depth
    BAD_VALUE = 5  # SET_LR shift out of its range, TRAIN label >= n_classes
    NO_PROGRAM = 6  # INFER / TRAIN while the engine holds no valid program


class Mem(IntEnum):
    """Memory ids (bits 31..24 of the first WRITE / READ payload word)."""

    WEIGHTS = 0
    THRESHOLDS = 1
    GAINS = 2
    FRAMES = 3
    PROGRAM = 4
    READOUT = 5  # read-only from here on
    COUNTS = 6
    CYCLES = 7


READ_WRITE = frozenset({Mem.WEIGHTS, Mem.THRESHOLDS, Mem.GAINS, Mem.FRAMES, Mem.PROGRAM})
READ_ONLY = frozenset({Mem.READOUT, Mem.COUNTS, Mem.CYCLES})


def _field(name: str, value: int, limit: int) -> int:
    value = int(value)
    if not 0 <= value < limit:
        raise ValueError(f"{name} must be in [0, {limit:#x}), not {value!r}")
    return value


def header(op: int, count: int = 0) -> int:
    """Command header word ``op << 24 | count``."""
    return _field("op", op, 256) << 24 | _field("count", count, COUNT_LIMIT)


def parse_header(word: int) -> tuple[int, int]:
    """``(op, count)`` of a command header word."""
    return (word >> 24) & 0xFF, word & (COUNT_LIMIT - 1)


def reply_header(status: int, n: int = 0) -> int:
    """Reply header word ``status << 24 | n`` (what the decoder sends; for models and fakes)."""
    return _field("status", status, 256) << 24 | _field("n", n, COUNT_LIMIT)


def parse_reply_header(word: int) -> tuple[int, int]:
    """``(status, n)`` of a reply header word."""
    return (word >> 24) & 0xFF, word & (COUNT_LIMIT - 1)


def to_signed32(word: int) -> int:
    """A 32-bit word as a two's-complement integer."""
    word &= MASK32
    return word - (1 << 32) if word & (1 << 31) else word


def _err_name(code: int) -> str:
    try:
        return Err(code).name
    except ValueError:
        return f"UNKNOWN_STATUS_{code:#04x}"


class ProtocolError(Exception):
    """The device answered a command with a nonzero status.

    Attributes
    ----------
    code : int
        The status (an :class:`Err` value when known).
    name : str
        Its name, e.g. ``"BAD_ADDRESS"``.
    """

    def __init__(self, code: int, message: str = ""):
        self.code = code
        self.name = _err_name(code)
        super().__init__(f"{self.name}: {message}" if message else self.name)


class MalformedReply(Exception):
    """A reply that breaks the framing rules (wrong data length, data after an error)."""


@dataclass
class Command:
    """One command: the words to send and how to decode its reply.

    Attributes
    ----------
    words : list[int]
        Header and payload, each in [0, 2**32).
    reply_words : int | None
        Data words the reply carries on success (None: any number).
    parse : callable
        Turns the reply's data words into the result (called on success only).
    what : str
        Human description, used in error messages.
    """

    words: list[int]
    reply_words: int | None = 0
    parse: Callable[[list[int]], Any] = field(default=lambda data: None, repr=False)
    what: str = ""

    def decode(self, status: int, data: Sequence[int]) -> Any:
        """The result of the command from its reply's status and data words.

        Raises :class:`ProtocolError` on a nonzero status and :class:`MalformedReply` when the
        data words do not match the framing rules.
        """
        data = list(data)
        if status != 0:
            if data:
                raise MalformedReply(f"{self.what}: status {_err_name(status)} with "
                                     f"{len(data)} data words (must be 0)")
            raise ProtocolError(status, self.what)
        if self.reply_words is not None and len(data) != self.reply_words:
            raise MalformedReply(f"{self.what}: {len(data)} data words, expected "
                                 f"{self.reply_words}")
        return self.parse(data)


def _mem_addr(mem: int, addr: int) -> int:
    return _field("mem", mem, 256) << 24 | _field("addr", addr, COUNT_LIMIT)


class Host:
    """Builds :class:`Command` objects; executes nothing (see :class:`SyncHost`).

    Arguments are range-checked only as far as the framing needs (field widths); whether a
    memory, address, shift or label is acceptable is the device's decision (its reply status).
    """

    def nop(self) -> Command:
        """Ping: reply OK, no data. Result None."""
        return Command([header(Op.NOP)], 0, what="NOP")

    def write(self, mem: int, addr: int, values: Sequence[int]) -> Command:
        """Write ``values`` (signed or unsigned ints, masked to 32 bits) to ``mem`` from
        ``addr`` upwards. Result None."""
        vals = [int(v) & MASK32 for v in values]
        return Command([header(Op.WRITE, 1 + len(vals)), _mem_addr(mem, addr)] + vals, 0,
                       what=f"WRITE {_mem_name(mem)}[{addr}:{addr + len(vals)}]")

    def read(self, mem: int, addr: int, n: int) -> Command:
        """Read ``n`` words of ``mem`` from ``addr``. Result: list of signed 32-bit ints."""
        n = _field("n", n, COUNT_LIMIT)
        return Command([header(Op.READ, 2), _mem_addr(mem, addr), n], n,
                       lambda data: [to_signed32(w) for w in data],
                       what=f"READ {_mem_name(mem)}[{addr}:{addr + n}]")

    def set_lr(self, w: int, th: int, g: int) -> Command:
        """Set the learning-rate shifts of weights, thresholds and gains. Result None."""
        words = [_field(k, v, 1 << 32) for k, v in (("w", w), ("th", th), ("g", g))]
        return Command([header(Op.SET_LR, 3)] + words, 0, what=f"SET_LR {w} {th} {g}")

    def infer(self) -> Command:
        """Run one forward pass on the loaded frames. Result: its cycle count."""
        return Command([header(Op.INFER)], 1, lambda data: data[0], what="INFER")

    def train(self, label: int) -> Command:
        """Train on the loaded frames with class ``label``. Result: the cycle count."""
        label = _field("label", label, 1 << 32)
        return Command([header(Op.TRAIN, 1), label], 1, lambda data: data[0],
                       what=f"TRAIN {label}")

    def status(self) -> Command:
        """Result: ``(error code, samples trained)``; the error code is an :class:`Err` when
        known."""
        def parse(data):
            code = data[0]
            return (Err(code) if code in Err._value2member_map_ else code), data[1]
        return Command([header(Op.STATUS)], 2, parse, what="STATUS")

    def clear_error(self) -> Command:
        """Reset the sticky error code to 0. Result None."""
        return Command([header(Op.CLEAR_ERROR)], 0, what="CLEAR_ERROR")


def _mem_name(mem: int) -> str:
    return Mem(mem).name if mem in Mem._value2member_map_ else f"mem{mem}"


class Transport(Protocol):
    """What :class:`SyncHost` needs: send words, receive exactly ``n`` words (blocking)."""

    def send(self, words: list[int]) -> None: ...

    def recv(self, n: int) -> list[int]: ...


class SyncHost:
    """Executes commands at once over ``transport``: sends a command, reads the reply header,
    then its data words, and returns the decoded result.

    Methods mirror :class:`Host`. A nonzero status raises :class:`ProtocolError` (after the
    whole reply has been read, so the next command starts in sync); a reply whose length
    breaks the framing raises :class:`MalformedReply`, also after reading all its words.
    """

    def __init__(self, transport: Transport, host: Host | None = None):
        self.transport = transport
        self.host = host if host is not None else Host()

    def execute(self, cmd: Command) -> Any:
        self.transport.send(list(cmd.words))
        (word,) = self.transport.recv(1)
        status, n = parse_reply_header(word)
        data = self.transport.recv(n) if n else []
        return cmd.decode(status, data)

    def nop(self) -> None:
        return self.execute(self.host.nop())

    def write(self, mem: int, addr: int, values: Sequence[int]) -> None:
        return self.execute(self.host.write(mem, addr, values))

    def read(self, mem: int, addr: int, n: int) -> list[int]:
        return self.execute(self.host.read(mem, addr, n))

    def set_lr(self, w: int, th: int, g: int) -> None:
        return self.execute(self.host.set_lr(w, th, g))

    def infer(self) -> int:
        return self.execute(self.host.infer())

    def train(self, label: int) -> int:
        return self.execute(self.host.train(label))

    def status(self) -> tuple[int, int]:
        return self.execute(self.host.status())

    def clear_error(self) -> None:
        return self.execute(self.host.clear_error())


# --------------------------------------------------------------------------- #
# Serial link byte order (rtl_gen/serial_core.py, rtl_gen/serial_host.py)
# --------------------------------------------------------------------------- #

async def execute_async(cmd: Command, send, recv) -> Any:
    """:meth:`SyncHost.execute` over an asynchronous transport (a cocotb testbench):
    ``await send(words)``, ``await recv(n)``."""
    await send(list(cmd.words))
    (word,) = await recv(1)
    status, n = parse_reply_header(word)
    data = await recv(n) if n else []
    return cmd.decode(status, data)


def words_to_bytes(words: Sequence[int]) -> bytes:
    """32-bit words as the serial link sends them: 4 bytes each, little-endian (byte 0 is
    bits 7..0). Words are masked to 32 bits, so signed values are accepted."""
    return b"".join((int(w) & MASK32).to_bytes(4, "little") for w in words)


def bytes_to_words(data: bytes | bytearray | Sequence[int]) -> list[int]:
    """The words of ``data`` (4 bytes each, little-endian; see :func:`words_to_bytes`).

    Raises ValueError when ``len(data)`` is not a multiple of 4."""
    data = bytes(data)
    if len(data) % 4:
        raise ValueError(f"{len(data)} bytes is not a whole number of 32-bit words "
                         f"({len(data) % 4} bytes left over)")
    return [int.from_bytes(data[k:k + 4], "little") for k in range(0, len(data), 4)]
