"""Where every value lives in the generated core: one layout for RTL, compiler, testbench, host.

A core is built for a *capacity* (``hardware``: lanes, memory depths, widest layer, most layers,
most steps) and runs a *network* that fits it (the program, rtl_gen/isa.py). Memories holding
per-neuron data are banked by lane: neuron ``i`` of a layer belongs to lane ``i % lanes`` and
group ``q = i // lanes``; a layer of ``n`` neurons has ``G = ceil(n / lanes)`` groups.

* **weights** (bank per lane): row ``wbase[l] + j * G[l] + q`` holds ``W_l[q * lanes + k][j]``
  (0 past the layer's last neuron). Weight layer ``l`` runs from the first LIF layer (0) to the
  readout (last). Host address ``A`` is bank ``A % lanes``, row ``A // lanes``.
* **neuron rows** (bank per lane): row ``hbase[l] + q`` of weight layer ``l`` holds its group
  ``q`` in the membrane, history (forward values the backward pass needs, two slots), error
  history (``da`` of every step) and row-sum memories.
* **thresholds / gains**: address ``l * max_timesteps + t``.
* **input frames**: ``frame_words`` 32-bit words per step at ``t * frame_words``; input ``j``
  is bit ``j % 32`` of word ``j // 32``.
* **readout**: bank ``k``, row ``t * G_out + q`` holds ``o[t][q * lanes + k]``; host address
  ``row * lanes + k``.
* **counts**: address ``l * max_timesteps + t``: input events (spikes) into weight layer ``l``
  at step ``t`` in the last run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["MemoryMap", "CYCLE_COUNTERS"]

#: Words of the read-only CYCLES memory: the last run's cycles in total and with each engine
#: busy.
CYCLE_COUNTERS = ("total", "forward", "backward", "update")


@dataclass(frozen=True)
class MemoryMap:
    """Capacity of a core and the layout of one network in it."""

    lanes: int
    layers: tuple[int, ...]  # n_in, LIF sizes..., n_out
    timesteps: int
    weight_words: int  # hardware.weight_words
    neuron_words: int  # hardware.neuron_words
    max_width: int
    max_layers: int  # weight layers
    max_timesteps: int
    fire_stages: int  # hardware.fire_stages

    @classmethod
    def of(cls, cfg) -> "MemoryMap":
        h = cfg.hardware
        return cls(h.lanes, tuple(cfg.network.layers), cfg.timesteps,
                   h.weight_words, h.neuron_words, h.max_width,
                   h.max_layers, h.max_timesteps, h.fire_stages)

    # -- capacity ------------------------------------------------------------------
    @property
    def weight_capacity(self) -> int:
        """Rows per weight bank."""
        return self.weight_words // self.lanes

    @property
    def neuron_capacity(self) -> int:
        """Rows per neuron bank."""
        return self.neuron_words // self.lanes

    @property
    def cap_groups(self) -> int:
        """Groups of the widest layer the core can hold."""
        return math.ceil(self.max_width / self.lanes)

    @property
    def spike_width(self) -> int:
        """Width of a spike vector in the core (whole groups)."""
        return self.cap_groups * self.lanes

    @property
    def frame_words(self) -> int:
        return math.ceil(self.max_width / 32)

    @property
    def param_rows(self) -> int:
        """Threshold / gain memory depth."""
        return (self.max_layers - 1) * self.max_timesteps

    @property
    def readout_capacity(self) -> int:
        return self.max_timesteps * self.cap_groups

    # -- the network's layout ----------------------------------------------------------
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
    def hbase(self) -> tuple[int, ...]:
        return tuple(sum(self.groups(m) for m in range(l)) for l in range(self.n_weight_layers))

    @property
    def neuron_rows(self) -> int:
        return sum(self.groups(l) for l in range(self.n_weight_layers))

    @property
    def readout_rows(self) -> int:
        return self.timesteps * self.groups(self.n_weight_layers - 1)

    def fit_problems(self) -> list[tuple[str, object, str]]:
        """Why the network does not fit the core: ``(field, value, allowed)`` triples."""
        p = []
        if self.n_weight_layers > self.max_layers:
            p.append(("network.layers", list(self.layers),
                      f"at most {self.max_layers + 1} sizes (hardware.max_layers = "
                      f"{self.max_layers} weight layers)"))
        if max(self.layers) > self.max_width:
            p.append(("network.layers", list(self.layers),
                      f"sizes of at most {self.max_width} (hardware.max_width)"))
        if self.timesteps > self.max_timesteps:
            p.append(("network.timesteps", self.timesteps,
                      f"an integer in [1, {self.max_timesteps}] (hardware.max_timesteps)"))
        if self.weight_rows > self.weight_capacity:
            p.append(("hardware.weight_words", self.weight_words,
                      f"at least {self.weight_rows * self.lanes} ({self.weight_rows} rows of "
                      f"{self.lanes} lanes: the network's weights padded to whole groups)"))
        if self.neuron_rows > self.neuron_capacity:
            p.append(("hardware.neuron_words", self.neuron_words,
                      f"at least {self.neuron_rows * self.lanes} ({self.neuron_rows} rows of "
                      f"{self.lanes} lanes: every weight layer's outputs in whole groups)"))
        return p

    # -- host addresses and images -----------------------------------------------------
    def param_addr(self, l: int, t: int) -> int:
        return l * self.max_timesteps + t

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

    def weights_from_image(self, img) -> list[np.ndarray]:
        """Inverse of :meth:`weight_image`."""
        img = np.asarray(img, dtype=np.int64).reshape(-1, self.lanes)
        out = []
        for l in range(self.n_weight_layers):
            n_in, n_out, g = self.fan_in(l), self.layers[l + 1], self.groups(l)
            block = img[self.wbase[l]:self.wbase[l] + n_in * g].reshape(n_in, g, self.lanes)
            out.append(block.transpose(1, 2, 0).reshape(g * self.lanes, n_in)[:n_out])
        return out

    def frame_image(self, frames: np.ndarray) -> np.ndarray:
        """32-bit words (T * frame_words) of spike frames (T, n_in) of 0/1."""
        t, n = frames.shape
        bits = np.zeros((t, self.frame_words * 32), dtype=np.int64)
        bits[:, :n] = frames
        weights = (1 << np.arange(32, dtype=np.int64))
        return (bits.reshape(t, self.frame_words, 32) * weights).sum(-1).reshape(-1)

    def readout_from_image(self, img) -> np.ndarray:
        """Readouts (T, n_out) from the READOUT words of rows ``0 .. readout_rows - 1``."""
        g = self.groups(self.n_weight_layers - 1)
        img = np.asarray(img, dtype=np.int64).reshape(self.timesteps, g * self.lanes)
        return img[:, :self.layers[-1]]

    def as_dict(self) -> dict:
        return {"lanes": self.lanes, "groups": [self.groups(l) for l in range(self.n_weight_layers)],
                "weight_base_rows": list(self.wbase), "weight_rows": self.weight_rows,
                "weight_capacity_rows": self.weight_capacity,
                "neuron_base_rows": list(self.hbase), "neuron_rows": self.neuron_rows,
                "neuron_capacity_rows": self.neuron_capacity,
                "max_width": self.max_width, "max_layers": self.max_layers,
                "max_timesteps": self.max_timesteps, "frame_words": self.frame_words,
                "readout_rows": self.readout_rows}
