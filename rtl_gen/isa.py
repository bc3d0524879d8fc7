"""Instruction set and compiler: a network becomes a program the core runs.

A program is a header word and one *layer macro-instruction* (four words) per weight layer,
first LIF layer first, readout last. The core keeps the words (``PROGRAM`` memory of the
host protocol), runs on registered copies of their fields and runs any fully connected
network that fits its memories (:meth:`rtl_gen.memory_map.MemoryMap.fit_problems`).
docs/isa.md describes the encoding.

======  =====================================================================
word    fields (bit ranges)
======  =====================================================================
header  ``T`` [7:0] time steps, ``K`` [15:8] weight layers
layer   w0: ``n_in`` [15:0], ``n_out`` [31:16]
        w1: ``groups`` [15:0] = ceil(n_out / lanes), ``hbase`` [31:16] neuron-row base
        w2: ``wbase`` [23:0] weight-row base
        w3: ``recip`` [31:0] = round(2**recip_bits / n_in), the centering constant (LIF only)
======  =====================================================================

Each layer instruction expands in hardware to the macro-operations of one step
(forward: LOAD, START, ACC, FIRE, DRAIN; backward: DELTA, PASS) and of the update (UPDATE);
golden/timing.py gives their cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from .memory_map import MemoryMap

__all__ = ["LayerInstr", "Program", "compile_network", "WORDS_PER_LAYER", "program_depth"]

WORDS_PER_LAYER = 4


def program_depth(max_layers: int) -> int:
    """Words of the program memory of a core with ``max_layers`` weight layers."""
    return 1 + WORDS_PER_LAYER * max_layers


@dataclass(frozen=True)
class LayerInstr:
    """One weight layer: its shape, where its data lives, its centering constant."""

    n_in: int
    n_out: int
    groups: int
    hbase: int
    wbase: int
    recip: int

    def words(self) -> list[int]:
        return [self.n_in | self.n_out << 16, self.groups | self.hbase << 16, self.wbase,
                self.recip]

    @classmethod
    def decode(cls, words) -> "LayerInstr":
        w0, w1, w2, w3 = (int(w) for w in words)
        return cls(w0 & 0xFFFF, w0 >> 16, w1 & 0xFFFF, w1 >> 16, w2 & 0xFFFFFF, w3)


@dataclass(frozen=True)
class Program:
    timesteps: int
    layers: tuple[LayerInstr, ...]

    def words(self) -> list[int]:
        out = [self.timesteps | len(self.layers) << 8]
        for li in self.layers:
            out += li.words()
        return out

    @classmethod
    def decode(cls, words) -> "Program":
        head = int(words[0])
        k = head >> 8 & 0xFF
        return cls(head & 0xFF, tuple(LayerInstr.decode(words[1 + 4 * l:5 + 4 * l])
                                      for l in range(k)))


def recip(n_in: int, bits: int) -> int:
    """``round(2**bits / n_in)``, half up: the row-mean constant of golden/fixed_model.py."""
    return (1 << bits) // n_in + ((1 << bits) % n_in * 2 >= n_in)


def compile_network(cfg) -> Program:
    """The program of ``cfg.network`` for the core of ``cfg.hardware`` (the config is already
    validated, so it fits)."""
    mm = MemoryMap.of(cfg)
    rb = cfg.fixed.recip_bits
    layers = []
    for l in range(mm.n_weight_layers):
        lif = l < mm.n_lif
        layers.append(LayerInstr(mm.fan_in(l), mm.layers[l + 1], mm.groups(l), mm.hbase[l],
                                 mm.wbase[l], recip(mm.fan_in(l), rb) if lif else 0))
    return Program(cfg.timesteps, tuple(layers))
