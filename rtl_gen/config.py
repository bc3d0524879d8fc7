"""The hardware/network configuration: one frozen, validated object read from TOML.

Everything that runs (golden models, training, later the generator and the testbenches) takes a
:class:`Config`. It is parsed and checked completely before anything else happens, so a bad
file is rejected before a single output is written.

Errors are reported as :class:`ConfigError`, which lists every problem as
``field = value: allowed ...``; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Config", "ConfigError", "load_config", "parse_config", "preset_path", "PRESETS"]

#: Directory holding the named configs (``tiny``, ``default``, ``up5k``, ``ecp5``).
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
PRESETS = ("tiny", "default", "up5k", "ecp5")

#: Largest magnitude an exact integer dot product may reach: the fixed model computes matrix
#: products in float64, which is exact below 2**53 (see docs/fixed-point.md).
EXACT_BITS = 53


def _int(lo: int, hi: int, doc: str):
    return Annotated[int, Field(strict=True, ge=lo, le=hi, description=doc)]


def _num(lo: float, hi: float, doc: str):
    return Annotated[float, Field(ge=lo, le=hi, description=doc)]


def _flag(doc: str):
    return Annotated[bool, Field(strict=True, description=doc)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


LayerSize = Annotated[int, Field(strict=True, ge=1, le=4096)]
EpochIndex = Annotated[int, Field(strict=True, ge=1, le=1000)]


class Network(_Section):
    """The spiking network and its learning rule (DESIGN.md, 'The algorithm')."""

    layers: Annotated[
        tuple[LayerSize, ...],
        Field(min_length=3, max_length=8,
              json_schema_extra={"allowed": "a list of 3 to 8 sizes in [1, 4096]: inputs, "
                                            "one or more LIF layers, readout"}),
    ] = (64, 128, 10)
    timesteps: _int(1, 64, "time steps T per sample") = 8
    leak: _num(0.0, 1.0, "membrane leak factor: 1, 2**-a or 1 - 2**-a with a in [1, 15]") = 0.5
    reset: Literal["soft", "hard"] = "soft"
    surrogate: Literal["triangle", "rectangle"] = "triangle"
    surrogate_width: _num(0.0625, 16.0, "surrogate half-width, a power of two") = 1.0
    loss: Literal["mse", "hinge", "ce"] = "hinge"
    target: _num(0.0, 8.0, "MSE target level of the true class") = 1.0
    learn_threshold: _flag("train the per-layer per-step threshold") = True
    weight_centering: _flag("temporally scaled weight centering with a learnable gain") = True
    update: Literal["sample", "step"] = "sample"
    threshold_init: _num(0.0, 8.0, "initial threshold of every layer and step") = 0.5
    gain_init: _num(0.0, 8.0, "initial centering gain of every layer and step") = 1.0
    init: Literal["uniform", "normal"] = "uniform"
    init_scale: _num(0.0, 8.0, "weight init scale: bound (uniform) or std (normal) times "
                               "1/sqrt(fan_in)") = 1.0


class Train(_Section):
    """Online SGD, batch 1: learning rates are powers of two (right shifts in hardware)."""

    epochs: _int(1, 1000, "training epochs") = 10
    lr_shift: _int(0, 24, "weight learning rate 2**-lr_shift") = 5
    lr_shift_threshold: _int(0, 24, "threshold learning rate 2**-lr_shift_threshold") = 8
    lr_shift_gain: _int(0, 24, "gain learning rate 2**-lr_shift_gain") = 10
    lr_decay_epochs: Annotated[
        tuple[EpochIndex, ...],
        Field(max_length=16, json_schema_extra={
            "allowed": "a list of up to 16 epoch indices in [1, 1000]; at each, every "
                       "learning-rate shift grows by one"}),
    ] = (5, 8)


class Data(_Section):
    """Data set, split and rate coding."""

    dataset: Literal["digits"] = "digits"
    test_fraction: _num(0.05, 0.5, "fraction of the data held out for testing") = 0.2
    code_bits: _int(1, 8, "random bits per rate-code draw; intensities have 2**code_bits "
                          "levels") = 4


class Fixed(_Section):
    """Fixed-point formats (docs/fixed-point.md). Q(bits, frac): signed, two's complement."""

    w_bits: _int(4, 24, "weight width") = 16
    w_frac: _int(0, 23, "weight fractional bits") = 12
    v_bits: _int(6, 32, "membrane/threshold/gain/error width") = 16
    v_frac: _int(0, 31, "membrane/threshold/gain/error fractional bits") = 10
    recip_bits: _int(8, 24, "fractional bits of the 1/fan_in constant used by centering") = 16


class Hardware(_Section):
    """The generated core (used by the generator from issue 4 on)."""

    target: Literal["sim", "ice40-up5k", "ecp5-25k", "ecp5-85k"] = "sim"
    lanes: _int(1, 64, "forward SIMD lanes") = 8
    max_width: _int(1, 4096, "widest layer (inputs, neurons or classes) the core can run") = 128
    max_layers: _int(2, 7, "most weight layers (LIF layers plus the readout) a program may have") = 3
    schedule: Literal["serial", "dual", "dense"] = "dual"
    weight_words: _int(16, 1 << 22, "weight memory depth in words") = 16384
    neuron_words: _int(4, 1 << 16, "membrane/state memory depth (neurons)") = 512
    max_timesteps: _int(1, 64, "threshold/gain memory depth (time steps)") = 16
    fire_stages: _int(2, 6, "pipeline stages of the forward's FIRE data path (each one more "
                      "cycle per layer-step; more stages, a shorter critical path)") = 3
    clock_mhz: _num(1.0, 1000.0, "target clock frequency in MHz") = 50.0


class Config(_Section):
    """A validated config: the sections of the TOML file plus derived quantities.

    Frozen: derive a changed copy with :meth:`replace`. Built by :func:`load_config` or
    :func:`parse_config`, which also run the cross-field checks.
    """

    name: Annotated[str, Field(strict=True, min_length=1, max_length=64,
                               pattern=r"^[A-Za-z0-9_\-]+$",
                               json_schema_extra={"allowed": "1 to 64 of A-Z a-z 0-9 _ -"})]
    seed: _int(0, 2**31 - 1, "seed of every random generator") = 1
    network: Network = Network()
    train: Train = Train()
    data: Data = Data()
    fixed: Fixed = Fixed()
    hardware: Hardware = Hardware()

    # -- derived sizes ---------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return self.network.layers[0]

    @property
    def n_out(self) -> int:
        return self.network.layers[-1]

    @property
    def hidden(self) -> tuple[int, ...]:
        """Sizes of the LIF layers."""
        return tuple(self.network.layers[1:-1])

    @property
    def timesteps(self) -> int:
        return self.network.timesteps

    def as_dict(self) -> dict:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """Short stable hash of every field (build directories are keyed by it)."""
        blob = json.dumps(self.as_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def replace(self, **sections: dict) -> "Config":
        """A new validated config with some fields changed, e.g.
        ``cfg.replace(network={"timesteps": 4})``."""
        data = self.as_dict()
        for sec, fields in sections.items():
            data[sec] = {**data[sec], **fields} if isinstance(fields, dict) else fields
        return parse_config(data, source=f"{self.name} (modified)")


MISSING = object()


@dataclass(frozen=True)
class Problem:
    field: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        if self.value is MISSING:
            return f"{self.field} (missing): allowed {self.allowed}"
        return f"{self.field} = {self.value!r}: allowed {self.allowed}"


class ConfigError(ValueError):
    """A config file that cannot be used. ``problems`` lists every offending field."""

    def __init__(self, problems: list[Problem], source: str = "config"):
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid {source}:\n{lines}")


def _leak_ok(leak: float) -> bool:
    if leak == 1.0:
        return True
    return any(leak in (2.0**-a, 1.0 - 2.0**-a) for a in range(1, 16))


def _is_pow2(x: float) -> bool:
    m, _ = math.frexp(x)
    return x > 0 and m == 0.5


def _describe(model: type[BaseModel], loc: tuple) -> str:
    """Human text for what a field accepts, from its schema metadata."""
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return "see docs/config.md"
        info = model.model_fields[part]
        ann = info.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    if info is None:
        return "a table of known fields"
    extra = info.json_schema_extra or {}
    if "allowed" in extra:
        return extra["allowed"]
    ann = info.annotation
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"a table with fields {', '.join(ann.model_fields)}"
    if get_origin(ann) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(ann))
    lo = next((m.ge for m in info.metadata if isinstance(m, at.Ge)), None)
    hi = next((m.le for m in info.metadata if isinstance(m, at.Le)), None)
    kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        ann, str(ann))
    text = kind if lo is None else f"{kind} in [{lo}, {hi}]"
    return f"{text} ({info.description})" if info.description else text


def _problems_from(err: ValidationError) -> list[Problem]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            parent = loc[:-1]
            model: Any = Config
            for part in parent:
                if isinstance(part, str):
                    model = model.model_fields[part].annotation
            known = ", ".join(model.model_fields)
            out.append(Problem(field, e["input"], f"no such field; known fields here: {known}"))
        elif e["type"] == "missing":
            out.append(Problem(field, MISSING, _describe(Config, loc)))
        else:
            out.append(Problem(field, e["input"], _describe(Config, loc)))
    return out


def _cross_checks(s: "Config") -> list[Problem]:
    """Checks that involve several fields or non-interval sets."""
    p = []
    n, f, t, h = s.network, s.fixed, s.train, s.hardware
    if not _leak_ok(n.leak):
        p.append(Problem("network.leak", n.leak,
                         "1.0, 2**-a or 1 - 2**-a for a in [1, 15] (a shift in hardware), "
                         "e.g. 0.5, 0.75, 0.25, 0.875"))
    if not _is_pow2(n.surrogate_width):
        p.append(Problem("network.surrogate_width", n.surrogate_width,
                         "a power of two in [0.0625, 16] (a shift in hardware)"))
    if f.w_frac >= f.w_bits:
        p.append(Problem("fixed.w_frac", f.w_frac, f"an integer in [0, {f.w_bits - 1}] "
                                                   "(less than fixed.w_bits)"))
    if f.v_frac >= f.v_bits:
        p.append(Problem("fixed.v_frac", f.v_frac, f"an integer in [0, {f.v_bits - 1}] "
                                                   "(less than fixed.v_bits)"))
    if f.v_frac > f.w_frac:
        p.append(Problem("fixed.v_frac", f.v_frac,
                         f"an integer in [0, {f.w_frac}] (at most fixed.w_frac, so a weight "
                         "sum becomes a membrane increment by a right shift)"))
    if n.surrogate_width * 2**f.v_frac < 2:
        p.append(Problem("network.surrogate_width", n.surrogate_width,
                         f"at least {2.0 ** (1 - f.v_frac)} with fixed.v_frac = {f.v_frac}"))
    lo_shift = f.w_frac - f.v_frac
    if t.lr_shift < lo_shift:
        p.append(Problem("train.lr_shift", t.lr_shift,
                         f"an integer in [{lo_shift}, 24] (weight updates are right shifts "
                         "of the gradient; at least fixed.w_frac - fixed.v_frac)"))
    if t.lr_decay_epochs and list(t.lr_decay_epochs) != sorted(set(t.lr_decay_epochs)):
        p.append(Problem("train.lr_decay_epochs", list(t.lr_decay_epochs),
                         "strictly increasing epoch indices"))
    for q in ("threshold_init", "gain_init", "target"):
        v = getattr(n, q)
        top = 2.0 ** (f.v_bits - 1 - f.v_frac)
        if v >= top:
            p.append(Problem(f"network.{q}", v, f"a number below {top} (the largest "
                                                f"Q{f.v_bits}.{f.v_frac} value)"))
    fan_in = max(n.layers[:-1])
    width = max(n.layers)
    acc_bits = f.w_bits + math.ceil(math.log2(fan_in + 1))
    back_bits = f.w_bits + f.v_bits + math.ceil(math.log2(width + 1))
    if max(acc_bits + f.v_bits, back_bits) > EXACT_BITS:
        p.append(Problem("fixed.w_bits", f.w_bits,
                         f"a width with w_bits + v_bits + log2(layer width) <= {EXACT_BITS - 1}"
                         " (exact integer dot products)"))
    if n.timesteps > h.max_timesteps:
        p.append(Problem("network.timesteps", n.timesteps,
                         f"an integer in [1, {h.max_timesteps}] (hardware.max_timesteps)"))
    from .memory_map import MemoryMap  # the one definition of what fits the core

    p += [Problem(*fp) for fp in MemoryMap.of(s).fit_problems()]
    return p


def parse_config(data: dict, source: str = "config") -> Config:
    """Validate a dict (as read from TOML) into a :class:`Config` or raise ConfigError."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_problems_from(err), source) from None
    problems = _cross_checks(cfg)
    if problems:
        raise ConfigError(problems, source)
    return cfg


def preset_path(name_or_path: str | Path) -> Path:
    """A path as given, or the file of a named preset (``default`` -> configs/default.toml)."""
    p = Path(name_or_path)
    if p.exists() or p.suffix:
        return p
    return CONFIG_DIR / f"{name_or_path}.toml"


def load_config(name_or_path: str | Path) -> Config:
    """Read and validate a TOML config file (or a preset name)."""
    path = preset_path(name_or_path)
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError([Problem("(file)", str(path), f"a readable TOML file ({err.strerror})")],
                          str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([Problem("(syntax)", str(path), f"valid TOML ({err})")],
                          str(path)) from None
    return parse_config(data, source=str(path))
