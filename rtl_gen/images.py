"""What the host writes into and reads out of a core's memories, as ``(mem, addr, words)``.

Shared by every host (the cocotb and amaranth.sim testbenches, the CLI, a board): the layout
is :mod:`rtl_gen.memory_map`'s, the memory ids :class:`rtl_gen.engine.Mem`'s.
"""

from __future__ import annotations

import numpy as np
import torch

from golden.learner import Params

from .protocol import Mem
from .isa import compile_network
from .memory_map import MemoryMap

__all__ = ["program_writes", "param_writes", "frame_writes", "param_reads", "params_from_reads",
           "readout_read", "counts_read", "counts_from_read"]


def program_writes(cfg) -> list[tuple[int, int, list[int]]]:
    return [(Mem.PROGRAM, 0, compile_network(cfg).words())]


def param_writes(cfg, params: Params) -> list[tuple[int, int, list[int]]]:
    """Writes that load fixed-point parameters (golden ``Params`` of int tensors)."""
    mm = MemoryMap.of(cfg)
    weights = [w.numpy() for w in params.w] + [params.w_out.numpy()]
    out = [(Mem.WEIGHTS, 0, mm.weight_image(weights).tolist())]
    for l in range(mm.n_lif):
        out.append((Mem.THRESHOLDS, mm.param_addr(l, 0), params.vth[l].tolist()))
        out.append((Mem.GAINS, mm.param_addr(l, 0), params.gain[l].tolist()))
    return out


def frame_writes(cfg, frames) -> list[tuple[int, int, list[int]]]:
    """Writes that load one sample's spike frames (T, n_in) of 0/1."""
    mm = MemoryMap.of(cfg)
    return [(Mem.FRAMES, 0, mm.frame_image(np.asarray(frames, dtype=np.int64)).tolist())]


def param_reads(cfg) -> list[tuple[int, int, int]]:
    """``(mem, addr, n)`` reads that fetch every parameter, in :func:`params_from_reads`'s
    order."""
    mm = MemoryMap.of(cfg)
    out = [(Mem.WEIGHTS, 0, mm.weight_rows * mm.lanes)]
    for l in range(mm.n_lif):
        out.append((Mem.THRESHOLDS, mm.param_addr(l, 0), mm.timesteps))
        out.append((Mem.GAINS, mm.param_addr(l, 0), mm.timesteps))
    return out


def params_from_reads(cfg, answers: list) -> Params:
    """Golden ``Params`` from the answers to :func:`param_reads` (signed words, as
    :meth:`rtl_gen.protocol.Host.read` returns them)."""
    mm = MemoryMap.of(cfg)
    ws = [torch.from_numpy(w.copy()) for w in mm.weights_from_image(answers[0])]
    vth = [np.asarray(answers[1 + 2 * l], dtype=np.int64) for l in range(mm.n_lif)]
    gain = [np.asarray(answers[2 + 2 * l], dtype=np.int64) for l in range(mm.n_lif)]
    shape = (mm.n_lif, mm.timesteps)
    return Params(ws[:-1], ws[-1], torch.tensor(np.array(vth)).reshape(shape),
                  torch.tensor(np.array(gain)).reshape(shape))


def readout_read(cfg) -> tuple[int, int, int]:
    mm = MemoryMap.of(cfg)
    return (Mem.READOUT, 0, mm.readout_rows * mm.lanes)


def counts_read(cfg) -> tuple[int, int, int]:
    mm = MemoryMap.of(cfg)
    return (Mem.COUNTS, 0, mm.max_layers * mm.max_timesteps)


def counts_from_read(cfg, words) -> np.ndarray:
    """(weight layers, T) input events of the last run."""
    mm = MemoryMap.of(cfg)
    w = np.asarray(words, dtype=np.int64).reshape(mm.max_layers, mm.max_timesteps)
    return w[:mm.n_weight_layers, :mm.timesteps]
