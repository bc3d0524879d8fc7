"""The host side of the serial link (docs/protocol.md, "Serial link") on top of pyserial:
a transport for :class:`rtl_gen.protocol.SyncHost` and the driver flows of rtl_gen/driver.py.

```python
from rtl_gen import driver
from rtl_gen.serial_host import open_host

host = open_host("/dev/ttyUSB1", 115200)
driver.drive(driver.load(cfg, params), host.execute)
res = driver.drive(driver.run_sample(cfg, frames, label), host.execute)
host.transport.close()
```
"""

from __future__ import annotations

from typing import Sequence

import serial

from .protocol import SyncHost, bytes_to_words, words_to_bytes

__all__ = ["SerialTransport", "open_host", "DEFAULT_TIMEOUT"]

#: Seconds :meth:`SerialTransport.recv` waits for the next byte before giving up.
DEFAULT_TIMEOUT = 2.0


class SerialTransport:
    """Words over a serial port: 4 bytes each, little-endian (:func:`words_to_bytes`).

    Parameters
    ----------
    port_or_serial : str or serial.Serial
        A device (``"/dev/ttyUSB1"``, ``"COM3"``) or pyserial URL (``"loop://"``), opened
        here with ``baud`` 8N1; or an open pyserial port object, used as it is (its baud
        rate is left alone; its read timeout is set to ``timeout``).
    baud : int
    timeout : float
        Seconds :meth:`recv` waits without receiving a byte before raising TimeoutError. A
        run (INFER, TRAIN) replies within milliseconds, and long replies keep bytes coming,
        so this bounds the silence, not the length of a reply.
    """

    def __init__(self, port_or_serial, baud: int = 115200, timeout: float = DEFAULT_TIMEOUT):
        if not timeout > 0:
            raise ValueError(f"timeout must be positive (seconds), not {timeout!r}")
        self.timeout = float(timeout)
        if isinstance(port_or_serial, str):
            self.serial = serial.serial_for_url(port_or_serial, baudrate=baud,
                                                bytesize=serial.EIGHTBITS,
                                                parity=serial.PARITY_NONE,
                                                stopbits=serial.STOPBITS_ONE,
                                                timeout=self.timeout)
        else:
            self.serial = port_or_serial
            self.serial.timeout = self.timeout

    def send(self, words: Sequence[int]) -> None:
        """Write ``words`` (each masked to 32 bits) and wait until they are out."""
        self.serial.write(words_to_bytes(words))
        self.serial.flush()

    def recv(self, n: int) -> list[int]:
        """Exactly ``n`` words, blocking. Raises TimeoutError, naming how many words are
        missing, when no byte arrives for ``timeout`` seconds (the bytes of an incomplete
        reply are dropped: resynchronise, e.g. by resetting the core, before going on)."""
        need = 4 * n
        data = bytearray()
        while len(data) < need:
            chunk = self.serial.read(need - len(data))
            if not chunk:
                got = len(data) // 4
                part = f" and {len(data) % 4} bytes of the next" if len(data) % 4 else ""
                raise TimeoutError(f"serial link {self.name}: {n - got} of {n} words missing "
                                   f"(received {got} words{part}, then nothing for "
                                   f"{self.timeout:g} s)")
            data += chunk
        return bytes_to_words(data)

    @property
    def name(self) -> str:
        return str(getattr(self.serial, "port", None) or getattr(self.serial, "name", "?"))

    def close(self) -> None:
        self.serial.close()

    def __enter__(self) -> "SerialTransport":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_host(port, baud: int = 115200, timeout: float = DEFAULT_TIMEOUT) -> SyncHost:
    """A :class:`SyncHost` over :class:`SerialTransport` ``(port, baud, timeout)``; close
    it with ``host.transport.close()``.

    SyncHost sends a command only after the whole reply to the previous one has arrived,
    which the serial core needs (its receive FIFO holds 16 words)."""
    return SyncHost(SerialTransport(port, baud, timeout))
