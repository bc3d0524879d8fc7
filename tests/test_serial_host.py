"""The serial host (rtl_gen/serial_host.py) over pyserial's ``loop://`` (every byte sent comes
back) and over a port that delivers bytes in random pieces; the byte order of the link."""

from __future__ import annotations

import random
import time

import pytest
import serial

from rtl_gen.protocol import SyncHost, bytes_to_words, words_to_bytes
from rtl_gen.serial_host import SerialTransport, open_host


def test_byte_order():
    assert words_to_bytes([0x04030201, 0xFFFFFFFF, -2, 0]) == bytes(
        [1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
    assert bytes_to_words(b"\x01\x02\x03\x04\x00\x00\x00\x80") == [0x04030201, 0x80000000]
    assert bytes_to_words(b"") == [] and words_to_bytes([]) == b""
    rng = random.Random(1)
    words = [rng.getrandbits(32) for _ in range(100)]
    assert bytes_to_words(words_to_bytes(words)) == words
    for n in (1, 2, 3, 5, 7):
        with pytest.raises(ValueError, match=f"{n} bytes is not a whole number"):
            bytes_to_words(bytes(n))


@pytest.fixture
def loop():
    t = SerialTransport("loop://", 115200, timeout=0.2)
    yield t
    t.close()


def test_loop_echoes_words(loop):
    rng = random.Random(2)
    words = [0, 1, 0xFFFFFFFF, 0x80000000] + [rng.getrandbits(32) for _ in range(300)]
    loop.send(words)
    assert loop.recv(len(words)) == words


def test_partial_reads(loop):
    """Words sent in one piece and received in several, and the other way round."""
    words = list(range(0x01000000, 0x01000000 + 20))
    loop.send(words)
    assert loop.recv(1) + loop.recv(0) + loop.recv(7) + loop.recv(12) == words
    for w in words:
        loop.send([w])
    assert loop.recv(20) == words


def test_timeout_names_the_missing_words(loop):
    loop.send([7, 8])
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="3 of 5 words missing") as exc:
        loop.recv(5)
    assert "received 2 words, then nothing for 0.2 s" in str(exc.value)
    assert "loop://" in str(exc.value)
    assert time.monotonic() - t0 < 2
    loop.serial.write(b"\x01\x02\x03\x04\x05\x06")  # a word and a half
    with pytest.raises(TimeoutError, match=r"1 of 2 words missing \(received 1 words and 2 "
                                           r"bytes of the next"):
        loop.recv(2)


class Trickle:
    """A pyserial-like port whose reads return 1..3 bytes at a time, as a real one can."""

    def __init__(self, data: bytes, seed: int = 0):
        self.data, self.rng = bytearray(data), random.Random(seed)
        self.timeout, self.port, self.reads = None, "trickle", 0

    def read(self, size):
        self.reads += 1
        k = min(size, self.rng.randint(1, 3), len(self.data))
        out, self.data[:k] = bytes(self.data[:k]), b""
        return out

    def write(self, data):
        self.data += data

    def flush(self):
        pass

    def close(self):
        pass


def test_reads_returning_pieces_of_words():
    words = [0x11223344, 0xAABBCCDD, 5, 0xFFFFFFFE]
    port = Trickle(words_to_bytes(words * 3))
    t = SerialTransport(port, timeout=0.5)
    assert port.timeout == 0.5
    assert t.recv(5) + t.recv(7) == words * 3
    assert port.reads > 12
    with pytest.raises(TimeoutError, match="1 of 1 words missing"):
        t.recv(1)


def test_open_host_over_loop():
    host = open_host("loop://", 115200, timeout=0.2)
    try:
        assert isinstance(host, SyncHost)
        assert host.nop() is None  # the echoed header 0x00000000 reads as an OK reply
        with pytest.raises(TimeoutError, match="1 of 1 words missing"):
            host.transport.recv(1)
    finally:
        host.transport.close()
    assert not host.transport.serial.is_open


def test_bad_timeout():
    with pytest.raises(ValueError, match="timeout must be positive"):
        SerialTransport(serial.serial_for_url("loop://", do_not_open=True), timeout=0)


def test_board_cli_bad_port(tmp_path):
    """``snngen board`` on a port that does not exist: exit 2, the port named, nothing
    written."""
    from click.testing import CliRunner

    from rtl_gen.cli import main

    out = tmp_path / "r.json"
    r = CliRunner().invoke(main, ["board", "tiny", "--port", str(tmp_path / "ttyNONE"),
                                  "--json", str(out)])
    assert r.exit_code == 2, r.output
    assert "--port = " in r.output and "cannot open it" in r.output
    assert not out.exists()


def test_board_cli_silent_port():
    """A port that answers nothing (pyserial's loop:// echoes the command back, which is not
    a valid reply either way): exit 1 with a clear message, no traceback."""
    from click.testing import CliRunner

    from rtl_gen.cli import main

    r = CliRunner().invoke(main, ["board", "tiny", "--port", "loop://", "--timeout", "0.2"])
    assert r.exit_code == 1, r.output
    assert "does not speak the core's protocol" in r.output or "does not answer" in r.output
