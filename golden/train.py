"""Online training of a golden model on a real data set, with evaluation and reporting.

Order of events, so host, golden and RTL runs can reproduce a run exactly:

* the training stream is PRBS31 stream 0 of ``cfg.seed``; it runs on across epochs;
* epoch ``e`` (1-based) visits the training samples in ``torch.randperm`` order of a
  generator seeded with ``cfg.seed * 1000 + e`` and encodes them in that order;
* every sample is learned online (batch 1) with the learning-rate shifts of :func:`lr_shifts`;
* the test set is encoded once with stream 1 and the training set, for its accuracy after each
  epoch, once with stream 2; both are evaluated in batches (inference only).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from .data import Dataset, Prbs31, load_dataset, rate_code, stream_state
from .learner import Learner, lr_shifts, prediction
from . import make_learner

__all__ = ["TrainResult", "train", "evaluate", "encode_split", "epoch_order", "epoch_samples"]

TRAIN_STREAM, TEST_STREAM, TRAIN_EVAL_STREAM = 0, 1, 2


@dataclass
class TrainResult:
    """What ``snngen train --json`` writes."""

    model: str
    config: str
    config_hash: str
    epochs: int
    test_accuracy: float
    train_accuracy: float
    test_accuracy_per_epoch: list[float] = field(default_factory=list)
    train_accuracy_per_epoch: list[float] = field(default_factory=list)
    online_accuracy_per_epoch: list[float] = field(default_factory=list)
    spike_rate: dict[str, float] = field(default_factory=dict)
    spike_rate_per_epoch: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    train_samples_per_s: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def encode_split(cfg, x: np.ndarray, stream: int) -> torch.Tensor:
    """Spike frames (N, T, n_in) of ``x`` from a fresh PRBS31 stream ``stream``."""
    return rate_code(x, cfg.timesteps, cfg.data.code_bits, Prbs31(stream_state(cfg.seed, stream)))


def epoch_order(cfg, n: int, epoch: int) -> torch.Tensor:
    """Training order of epoch ``epoch`` (1-based)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed * 1000 + epoch))


def epoch_samples(cfg, data: Dataset, epochs: int):
    """``(epoch, frames (N, T, n_in), labels, lr shifts)`` of each training epoch in order:
    the exact stream every trainer (golden or RTL) learns from."""
    stream = Prbs31(stream_state(cfg.seed, TRAIN_STREAM))
    n = len(data.train_y)
    for epoch in range(1, epochs + 1):
        order = epoch_order(cfg, n, epoch).numpy()
        frames = rate_code(data.train_x[order], cfg.timesteps, cfg.data.code_bits, stream)
        yield epoch, frames, data.train_y[order], lr_shifts(cfg, epoch)


def layer_names(cfg) -> list[str]:
    return ["input"] + [f"lif{i + 1}" for i in range(len(cfg.hidden))]


def evaluate(learner: Learner, frames: torch.Tensor, labels: np.ndarray,
             batch: int = 1024) -> tuple[float, dict[str, float]]:
    """Accuracy and per-layer spike rates (fraction of neuron-steps that spike)."""
    names = layer_names(learner.cfg)
    correct, spikes = 0, np.zeros(len(names))
    for i in range(0, len(frames), batch):
        tr = learner.infer(frames[i:i + batch])
        correct += int((prediction(tr.out).numpy() == labels[i:i + batch]).sum())
        spikes[0] += float(frames[i:i + batch].float().sum())
        for l, lt in enumerate(tr.layers):
            spikes[l + 1] += float(lt.spikes.float().sum())
    n = len(frames)
    sizes = [learner.cfg.n_in] + list(learner.cfg.hidden)
    rates = {nm: spikes[k] / (n * learner.cfg.timesteps * sizes[k]) for k, nm in enumerate(names)}
    return correct / n, rates


def train(cfg, model: str = "fixed", epochs: int | None = None, progress: bool = True,
          log=print, data: Dataset | None = None) -> tuple[TrainResult, Learner]:
    """Train ``model`` ("float" or "fixed") online on the config's data set."""
    torch.set_num_threads(1)  # batch-1 work: threads cost more than they give
    data = data or load_dataset(cfg)
    epochs = epochs or cfg.train.epochs
    learner = make_learner(cfg, model)
    test_frames = encode_split(cfg, data.test_x, TEST_STREAM)
    train_eval_frames = encode_split(cfg, data.train_x, TRAIN_EVAL_STREAM)
    res = TrainResult(model, cfg.name, cfg.hash(), epochs, 0.0, 0.0)
    t_start = time.perf_counter()
    t_learn = 0.0
    n = len(data.train_y)
    for epoch, frames, labels, shifts in epoch_samples(cfg, data, epochs):
        online = 0
        t0 = time.perf_counter()
        # disable=None: a bar on a terminal, nothing in logs and pipes
        bar = tqdm(range(n), desc=f"epoch {epoch}/{epochs}", disable=None if progress else True,
                   leave=False, unit="sample", mininterval=0.5)
        for i in bar:
            tr, _ = learner.train_sample(frames[i], int(labels[i]), shifts)
            online += int(prediction(tr.out)[0]) == labels[i]
        t_learn += time.perf_counter() - t0
        test_acc, rates = evaluate(learner, test_frames, data.test_y)
        train_acc, _ = evaluate(learner, train_eval_frames, data.train_y)
        res.test_accuracy_per_epoch.append(test_acc)
        res.train_accuracy_per_epoch.append(train_acc)
        res.online_accuracy_per_epoch.append(online / n)
        res.spike_rate_per_epoch.append(rates)
        rate_txt = " ".join(f"{k} {v:.3f}" for k, v in rates.items())
        log(f"epoch {epoch:>3}/{epochs}  train {100 * train_acc:6.2f}%  "
            f"test {100 * test_acc:6.2f}%  spike rate: {rate_txt}  "
            f"lr shifts {shifts}  ({time.perf_counter() - t0:.1f} s)")
    res.test_accuracy = res.test_accuracy_per_epoch[-1]
    res.train_accuracy = res.train_accuracy_per_epoch[-1]
    res.spike_rate = res.spike_rate_per_epoch[-1]
    res.seconds = time.perf_counter() - t_start
    res.train_samples_per_s = n * epochs / t_learn
    return res, learner


def plot_curves(res: TrainResult, path) -> None:
    """PNG of train and test accuracy per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = np.arange(1, res.epochs + 1)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.plot(ep, 100 * np.array(res.train_accuracy_per_epoch), "o-", label="train")
    ax.plot(ep, 100 * np.array(res.test_accuracy_per_epoch), "s-", label="test")
    ax.plot(ep, 100 * np.array(res.online_accuracy_per_epoch), ":", label="online (while learning)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{res.config}: {res.model} model, final test {100 * res.test_accuracy:.2f}%")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
