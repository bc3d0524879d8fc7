"""Golden models of the online SNN learner: float (the algorithm), fixed (bit-exact with the
RTL) and, from issue 4 on, timing. Data and rate coding live in :mod:`golden.data`."""

from .data import Dataset, Prbs31, load_dataset, rate_code
from .fixed_model import FixedArith, fixed_learner
from .float_model import FloatArith, float_learner
from .learner import Learner, Params, init_params, lr_shifts, prediction

__all__ = ["Dataset", "Prbs31", "load_dataset", "rate_code", "FixedArith", "fixed_learner",
           "FloatArith", "float_learner", "Learner", "Params", "init_params", "lr_shifts",
           "prediction", "make_learner"]


def make_learner(cfg, model: str, params: Params | None = None) -> Learner:
    """``model`` is ``"float"`` or ``"fixed"``; ``params`` real-valued or None (init)."""
    if model == "float":
        return float_learner(cfg, params)
    if model == "fixed":
        return fixed_learner(cfg, params)
    raise ValueError(f"model must be 'float' or 'fixed', not {model!r}")
