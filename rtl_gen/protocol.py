"""Host side of the command stream (rtl_gen/host_loader.py): words to send, answers to parse."""

from __future__ import annotations

import numpy as np

from .host_loader import Op
from .memory_map import MemoryMap

__all__ = ["header", "load_params_words", "frames_words", "run_words", "read_readout_words",
           "readout_answer_len", "decode_readout"]

_MASK32 = 0xFFFFFFFF


def header(op: int, count: int = 0) -> int:
    if not 0 <= count < 1 << 24:
        raise ValueError(f"count must be in [0, 2**24), not {count!r}")
    return (op << 24) | count


def _write(op: int, start: int, values) -> list[int]:
    vals = [int(v) & _MASK32 for v in values]
    return [header(op, len(vals)), start] + vals


def load_params_words(cfg, params) -> list[int]:
    """Words that load fixed-point parameters (golden ``Params`` of int tensors)."""
    mm = MemoryMap.of(cfg)
    weights = [w.numpy() for w in params.w] + [params.w_out.numpy()]
    words = _write(Op.WRITE_WEIGHTS, 0, mm.weight_image(weights))
    if mm.n_lif:
        words += _write(Op.WRITE_THRESHOLDS, 0, params.vth.reshape(-1).tolist())
        words += _write(Op.WRITE_GAINS, 0, params.gain.reshape(-1).tolist())
    return words


def frames_words(cfg, frames) -> list[int]:
    """Words that load one sample's spike frames (T, n_in) of 0/1."""
    mm = MemoryMap.of(cfg)
    return _write(Op.WRITE_FRAMES, 0, mm.frame_image(np.asarray(frames, dtype=np.int64)))


def run_words() -> list[int]:
    return [header(Op.RUN)]


def read_readout_words() -> list[int]:
    return [header(Op.READ_READOUT)]


def readout_answer_len(cfg) -> int:
    return cfg.timesteps * cfg.n_out


def decode_readout(cfg, words) -> np.ndarray:
    """Readouts (T, n_out) from READ_READOUT's answer words (32-bit two's complement)."""
    w = np.asarray(words, dtype=np.int64)
    w = np.where(w & (1 << 31), w - (1 << 32), w)
    return w.reshape(cfg.timesteps, cfg.n_out)
