"""Reading a sampled configuration: typed getters with defaults, and the vocabulary the builders accept.

A configuration is the flat dict a search samples: active parameters only, per-layer widths expanded
(``units_0 … units_{depth-1}``, ``filters_0 … filters_{blocks-1}``). Optional keys may be absent; every
getter here gives the default the builders document. Pure Python: no Keras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from automl.exceptions import ConfigError

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_STEPS_PER_EXECUTION",
    "OPTIMIZERS",
    "SCHEDULES",
    "Family",
    "choice",
    "flag",
    "infer_family",
    "integer",
    "layer_widths",
    "number",
    "optimizer_slots",
]

Family = Literal["mlp", "cnn"]
ACTIVATIONS = ("relu", "elu", "selu", "gelu", "swish", "tanh", "leaky_relu", "sigmoid")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SELU_STYLES = ("standard", "self_normalising")
# Batches per call into TensorFlow: small models are bound by per-step Python overhead.
DEFAULT_STEPS_PER_EXECUTION = 32
SCHEDULES = ("constant", "step", "piecewise", "exponential", "cosine", "warmup_hold_decay", "plateau")


def infer_family(config: Mapping[str, Any], family: str | None = None) -> Family:
    """The builder for ``config``: ``family`` if given, else ``config["family"]``, else ``cnn`` when the
    config has ``blocks`` and ``mlp`` otherwise.

    Raises:
        ConfigError: an unknown family name.
    """
    name = family if family is not None else config.get("family")
    if name is None:
        return "cnn" if "blocks" in config else "mlp"
    if name not in ("mlp", "cnn"):
        raise ConfigError(f"unknown model family {name!r}; use 'mlp' or 'cnn'")
    return name  # type: ignore[return-value]


def number(
    config: Mapping[str, Any],
    key: str,
    default: float,
    *,
    low: float = -math.inf,
    high: float = math.inf,
) -> float:
    """``config[key]`` as a float in ``[low, high]`` (``default`` when absent).

    Raises:
        ConfigError: not a number, or out of range.
    """
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"config key {key!r} must be a number, got {value!r}")
    if not low <= value <= high or math.isnan(value):
        raise ConfigError(f"config key {key!r} must be in [{low}, {high}], got {value!r}")
    return float(value)


def integer(config: Mapping[str, Any], key: str, default: int, *, low: int = 0) -> int:
    """``config[key]`` as an int ``>= low`` (``default`` when absent); whole floats are accepted."""
    value = number(config, key, default, low=low)
    if value != int(value):
        raise ConfigError(f"config key {key!r} must be a whole number, got {config.get(key)!r}")
    return int(value)


def choice(config: Mapping[str, Any], key: str, default: Any, values: Sequence[Any]) -> Any:
    """``config[key]`` (``default`` when absent), which must be one of ``values``."""
    value = config.get(key, default)
    if value not in values:
        options = ", ".join(repr(v) for v in values)
        raise ConfigError(f"config key {key!r} must be one of {options}; got {value!r}")
    return value


def flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool | int):
        raise ConfigError(f"config key {key!r} must be true or false, got {value!r}")
    return bool(value)


def layer_widths(
    config: Mapping[str, Any], count_key: str, width_key: str, default_count: int, default_width: int
) -> list[int]:
    """Per-layer widths ``width_key_0 … width_key_{n-1}`` with ``n = config[count_key]``.

    ``n`` defaults to the number of ``width_key_i`` keys present (``default_count`` if none). A missing
    ``width_key_i`` falls back to a plain ``width_key`` entry, then to ``default_width`` when the config
    names no per-layer width at all.

    Raises:
        ConfigError: some per-layer widths are given but one the count needs is missing, or a width < 1.
    """
    present = sorted(
        int(k[len(width_key) + 1 :])
        for k in config
        if k.startswith(width_key + "_") and k[len(width_key) + 1 :].isdigit()
    )
    count = integer(config, count_key, len(present) if present else default_count, low=1)
    fallback = config.get(width_key, None if present else default_width)
    widths = []
    for i in range(count):
        key = f"{width_key}_{i}"
        if key not in config and fallback is None:
            raise ConfigError(
                f"config has {count_key}={count} but no {key!r}: give {width_key}_0 … {width_key}_{count - 1}"
            )
        widths.append(
            integer(
                config,
                key if key in config else width_key,
                fallback if fallback is not None else default_width,
                low=1,
            )
        )
    return widths


def optimizer_slots(config: Mapping[str, Any]) -> int:
    """Per-parameter state variables the configured optimizer keeps (for memory estimates)."""
    name = choice(config, "optimizer", "adam", OPTIMIZERS)
    momentum = number(config, "momentum", 0.0, low=0.0, high=1.0)
    if name in ("adam", "adamw"):
        return 2  # first and second moments
    if name == "rmsprop":
        return 2 if momentum > 0 else 1  # mean square (+ momentum buffer)
    return 1 if momentum > 0 else 0  # sgd: velocity only with momentum
