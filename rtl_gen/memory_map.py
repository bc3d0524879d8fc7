"""Where every parameter lives in the generated core: one layout for RTL, testbench, host.

The core has ``lanes`` lanes; memories holding per-neuron data are banked by lane. Neuron ``i``
of a layer belongs to lane ``i % lanes`` and group ``q = i // lanes``; a layer with ``n``
neurons has ``G = ceil(n / lanes)`` groups.

* **weights**: bank ``k`` (one per lane), row ``wbase[l] + j * G[l] + q`` holds
  ``W_l[q * lanes + k][j]`` (0 past the layer's last neuron). Weight layer ``l`` runs from the
  first LIF layer (0) to the readout (last). The host addresses the banks as one linear space:
  word ``A`` is bank ``A % lanes``, row ``A // lanes``.
* **membranes**: bank ``k``, row ``ubase[l] + q`` for LIF layer ``l``.
* **thresholds / gains**: one memory each, row ``l * T + t``.
* **input frames**: row ``t``, ``frame_words`` 32-bit words; input ``j`` is bit ``j % 32`` of
  word ``j // 32``.
* **readout**: bank ``k``, row ``t * G_out + q`` holds ``o[t][q * lanes + k]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MemoryMap"]


@dataclass(frozen=True)
class MemoryMap:
    """Derived sizes and addresses of a config's core."""

    lanes: int
    layers: tuple[int, ...]  # n_in, LIF sizes..., n_out
    timesteps: int

    @classmethod
    def of(cls, cfg) -> "MemoryMap":
        return cls(cfg.hardware.lanes, tuple(cfg.network.layers), cfg.timesteps)

    # -- sizes ---------------------------------------------------------------------
    @property
    def n_weight_layers(self) -> int:
        return len(self.layers) - 1

    @property
    def n_lif(self) -> int:
        return len(self.layers) - 2

    def groups(self, l: int) -> int:
        """Groups of weight layer ``l`` (its outputs over the lanes)."""
        return math.ceil(self.layers[l + 1] / self.lanes)

    def fan_in(self, l: int) -> int:
        return self.layers[l]

    @property
    def max_groups(self) -> int:
        return max(self.groups(l) for l in range(self.n_weight_layers))

    @property
    def wbase(self) -> tuple[int, ...]:
        out, acc = [], 0
        for l in range(self.n_weight_layers):
            out.append(acc)
            acc += self.fan_in(l) * self.groups(l)
        return tuple(out)

    @property
    def weight_rows(self) -> int:
        l = self.n_weight_layers - 1
        return self.wbase[l] + self.fan_in(l) * self.groups(l)

    @property
    def ubase(self) -> tuple[int, ...]:
        return tuple(sum(self.groups(m) for m in range(l)) for l in range(self.n_lif))

    @property
    def membrane_rows(self) -> int:
        return sum(self.groups(l) for l in range(self.n_lif))

    @property
    def frame_words(self) -> int:
        return math.ceil(self.layers[0] / 32)

    @property
    def readout_rows(self) -> int:
        return self.timesteps * self.groups(self.n_weight_layers - 1)

    @property
    def spike_width(self) -> int:
        """Width of the spike vector between layers (padded to whole groups)."""
        return max(self.groups(l) * self.lanes for l in range(self.n_lif)) if self.n_lif else 1

    # -- host images ---------------------------------------------------------------
    def weight_image(self, weights: list[np.ndarray]) -> np.ndarray:
        """The linear weight-memory image (rows * lanes words) of the weight matrices
        ``[W_0, ..., W_out]`` (each (n_out, n_in) integers)."""
        img = np.zeros((self.weight_rows, self.lanes), dtype=np.int64)
        for l, w in enumerate(weights):
            n_out, n_in = w.shape
            g = self.groups(l)
            padded = np.zeros((g * self.lanes, n_in), dtype=np.int64)
            padded[:n_out] = w
            # row wbase + j*G + q, bank k  <-  W[q*lanes + k][j]
            block = padded.reshape(g, self.lanes, n_in).transpose(2, 0, 1)  # (j, q, k)
            img[self.wbase[l]:self.wbase[l] + n_in * g] = block.reshape(n_in * g, self.lanes)
        return img.reshape(-1)

    def frame_image(self, frames: np.ndarray) -> np.ndarray:
        """32-bit words (T * frame_words) of spike frames (T, n_in) of 0/1."""
        t, n = frames.shape
        bits = np.zeros((t, self.frame_words * 32), dtype=np.int64)
        bits[:, :n] = frames
        weights = (1 << np.arange(32, dtype=np.int64))
        return (bits.reshape(t, self.frame_words, 32) * weights).sum(-1).reshape(-1)

    def as_dict(self) -> dict:
        return {"lanes": self.lanes, "groups": [self.groups(l) for l in range(self.n_weight_layers)],
                "weight_base_rows": list(self.wbase), "weight_rows": self.weight_rows,
                "membrane_base_rows": list(self.ubase), "membrane_rows": self.membrane_rows,
                "threshold_rows": self.n_lif * self.timesteps,
                "frame_words": self.frame_words, "readout_rows": self.readout_rows,
                "spike_width": self.spike_width}
