"""Data set, split and rate coding shared by host, golden models, tests and (later) the RTL.

Rate coding is defined bit for bit (docs/fixed-point.md, "Input encoding"):

* the random source is a PRBS31 stream, ``b[n] = b[n-31] xor b[n-28]`` (ITU-T O.150), whose
  first 31 bits are the seed state ``b[i] = (state >> i) & 1``;
* each input channel at each time step takes the next ``code_bits`` bits of the stream, most
  significant first, as an unsigned number ``r``; draws are consumed in the order
  (sample, time step, channel);
* the channel spikes iff ``r < p``, where ``p`` in ``[0, 2**code_bits]`` is the quantized
  intensity ``round(x * 2**code_bits)`` of a value ``x`` in [0, 1].

In hardware the generator is a 31-bit shift register with two taps that can emit many bits
per cycle (the smallest lag is 28), so an encoder keeps up with any lane count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Prbs31", "Dataset", "load_dataset", "rate_code", "quantize_intensity", "stream_state"]

_MASK31 = (1 << 31) - 1


def stream_state(seed: int, stream: int) -> int:
    """The nonzero 31-bit start state of stream ``stream`` (0 train, 1 test) for ``seed``."""
    x = (seed * 0x9E3779B1 + stream * 0x85EBCA77 + 0x27D4EB2F) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    return (x & _MASK31) or 1


class Prbs31:
    """PRBS31 bit stream, ``b[n] = b[n-31] ^ b[n-28]``, generated in vector blocks.

    Squaring the polynomial over GF(2) gives ``b[n] = b[n-31*2**k] ^ b[n-28*2**k]`` for every
    k, so once the history holds ``31*2**k`` bits, ``28*2**k`` new bits come from one XOR of
    two slices. :meth:`bits` continues the stream where the last call stopped.
    """

    def __init__(self, state: int):
        if not 0 < state <= _MASK31:
            raise ValueError(f"PRBS31 state must be in [1, 2**31-1], not {state!r}")
        self._hist = np.array([(state >> i) & 1 for i in range(31)], dtype=np.uint8)
        self._pos = 31  # bits of history already handed out (the seed bits are not output)
        self._hist_pos = 0  # absolute index of _hist[0]

    def bits(self, n: int) -> np.ndarray:
        """The next ``n`` bits of the stream (uint8 0/1)."""
        need = self._pos + n - self._hist_pos
        h = self._hist
        if need > len(h):
            buf = np.empty(max(need, 2 * len(h)), dtype=np.uint8)
            buf[: len(h)] = h
            filled = len(h)
            while filled < need:
                k = 0
                while 31 << (k + 1) <= filled:
                    k += 1
                lag_a, lag_b = 31 << k, 28 << k
                blk = min(lag_b, need - filled)
                buf[filled:filled + blk] = (buf[filled - lag_a:filled - lag_a + blk]
                                            ^ buf[filled - lag_b:filled - lag_b + blk])
                filled += blk
            h = buf[:filled]
        out = h[self._pos - self._hist_pos:self._pos - self._hist_pos + n].copy()
        self._pos += n
        # keep only the tail needed to continue the recurrence (and a little more)
        keep = max(31, 1 << 16)
        start = max(0, (self._pos - self._hist_pos) - keep)
        self._hist = h[start:].copy()
        self._hist_pos += start
        return out


def quantize_intensity(x: np.ndarray, code_bits: int) -> np.ndarray:
    """Intensities in [0, 1] to integer levels ``round(x * 2**code_bits)`` (half up)."""
    levels = 1 << code_bits
    return np.floor(np.clip(x, 0.0, 1.0) * levels + 0.5).astype(np.int64)


def rate_code(levels: np.ndarray, timesteps: int, code_bits: int, prbs: Prbs31) -> torch.Tensor:
    """Spike frames for samples in order: ``levels`` (N, n_in) -> uint8 tensor (N, T, n_in).

    Consumes ``N * T * n_in * code_bits`` bits of ``prbs``.
    """
    n, n_in = levels.shape
    bits = prbs.bits(n * timesteps * n_in * code_bits).reshape(n, timesteps, n_in, code_bits)
    weights = (1 << np.arange(code_bits - 1, -1, -1)).astype(np.int64)
    r = bits.astype(np.int64) @ weights
    return torch.from_numpy((r < levels[:, None, :]).astype(np.uint8))


@dataclass(frozen=True)
class Dataset:
    """Quantized intensities and labels, split into train and test (fixed, seeded)."""

    name: str
    train_x: np.ndarray  # (N_train, n_in) int64 levels in [0, 2**code_bits]
    train_y: np.ndarray  # (N_train,) int64
    test_x: np.ndarray
    test_y: np.ndarray
    n_classes: int

    @property
    def n_in(self) -> int:
        return self.train_x.shape[1]


def _split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    n_test = int(round(n * test_fraction))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def load_dataset(cfg) -> Dataset:
    """The config's data set, quantized for rate coding and split with ``cfg.seed``."""
    if cfg.data.dataset != "digits":  # the schema allows only digits today
        raise ValueError(f"unknown data set {cfg.data.dataset!r}")
    from sklearn.datasets import load_digits

    d = load_digits()
    x = quantize_intensity(d.data / 16.0, cfg.data.code_bits)
    y = d.target.astype(np.int64)
    if x.shape[1] != cfg.n_in or int(y.max()) + 1 != cfg.n_out:
        raise ValueError(
            f"digits has {x.shape[1]} inputs and {int(y.max()) + 1} classes; the config's "
            f"network.layers starts with {cfg.n_in} and ends with {cfg.n_out}")
    tr, te = _split(len(y), cfg.data.test_fraction, cfg.seed)
    return Dataset("digits", x[tr], y[tr], x[te], y[te], 10)
