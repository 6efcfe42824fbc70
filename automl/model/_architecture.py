"""The layer plan of a configuration, in pure Python: what the builder builds, and what it costs.

:func:`plan` turns ``(config, input shape, task)`` into a list of :class:`LayerSpec` with output shapes
and parameter counts. The Keras builder translates the plan layer by layer, so :func:`count_params` and
:func:`estimate_memory` answer without TensorFlow and agree with the built model (a test checks it).

Architectures (defaults of absent keys in brackets):

* **mlp**: flatten (if the input is not a vector), then per layer ``i < depth`` [2]: Dense(``units_i`` [64])
  with L1 (``l1`` [0]) and L2 (``l2`` [0]) kernel penalties → BatchNormalization if ``batch_norm`` [false]
  → activation (``activation`` [relu]) → Dropout (``dropout`` [0]). Weights start ``glorot_uniform``;
  with ``selu_style: self_normalising`` [standard], ``selu`` layers get ``lecun_normal`` weights and
  alpha dropout instead (measured lower on tables: ``benchmarks/selu.py``).
* **cnn** (images only): per block ``i < blocks`` [2]: ``convs_per_block`` [1] × (Conv2D(``filters_i``
  [32], ``kernel_size`` [3], same padding, L2) → BatchNormalization? → activation), then 2×2 pooling
  (``pooling`` max|average [max]) over each spatial axis still >= 2 (skipped when neither is); head
  (``head`` flatten|global_average [global_average]) → Dense(``dense_units`` [64], L2) → BN? → activation
  → Dropout.
* output: Dense(1, sigmoid) binary · Dense(k, softmax) multiclass · Dense(1, linear) regression.
* input: a dataset whose inputs are compact uint8 images (``input_scale`` 255) gets a first layer that
  divides by it (Rescaling), so the saved model reads the pixel values its preprocessor gives.

Dense and Conv2D layers drop their bias when batch normalisation follows (its shift replaces it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automl.exceptions import ConfigError
from automl.model._config import (
    ACTIVATIONS,
    SELU_STYLES,
    Family,
    choice,
    flag,
    infer_family,
    integer,
    layer_widths,
    number,
    optimizer_slots,
)
from automl.tasks import Task

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = [
    "BYTES_PER_VALUE",
    "Architecture",
    "LayerSpec",
    "count_params",
    "estimate_memory",
    "plan",
    "plan_for",
]

BYTES_PER_VALUE = 4  # float32
_OUTPUT_ACTIVATION = {Task.BINARY: "sigmoid", Task.MULTICLASS: "softmax", Task.REGRESSION: "linear"}


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its kind, options for the builder, output shape (no batch axis) and weight counts."""

    # rescale | flatten | dense | conv | batch_norm | activation | dropout | pool | global_average | output
    kind: str
    output_shape: tuple[int, ...]
    trainable: int = 0
    non_trainable: int = 0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Architecture:
    family: Family
    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]

    @property
    def trainable(self) -> int:
        return sum(layer.trainable for layer in self.layers)

    @property
    def n_params(self) -> int:
        """All weights, trainable or not (what ``keras.Model.count_params`` reports)."""
        return sum(layer.trainable + layer.non_trainable for layer in self.layers)

    @property
    def activations_per_example(self) -> int:
        """Values per example in the input and every layer's output."""
        return math.prod(self.input_shape) + sum(math.prod(layer.output_shape) for layer in self.layers)


class _Planner:
    """Appends layers while tracking the current shape."""

    def __init__(
        self, input_shape: tuple[int, ...], activation: str, batch_norm: bool, self_normalising: bool = False
    ) -> None:
        self.shape = input_shape
        self.layers: list[LayerSpec] = []
        self.activation = activation
        self.batch_norm = batch_norm
        # lecun_normal weights and alpha dropout keep selu's activations normalised, as its paper
        # prescribes; measured on tables they score lower than the standard ones (benchmarks/selu.py).
        self.self_normalising = self_normalising and activation == "selu"

    def add(
        self, kind: str, shape: tuple[int, ...], trainable: int = 0, non_trainable: int = 0, **options: Any
    ) -> None:
        self.layers.append(LayerSpec(kind, shape, trainable, non_trainable, options))
        self.shape = shape

    def weighted(self, kind: str, width: int, fan_in: int, shape: tuple[int, ...], **options: Any) -> None:
        """A Dense / Conv2D layer of ``width`` units, then batch norm (if on) and the activation."""
        bias = not self.batch_norm
        init = "lecun_normal" if self.self_normalising else "glorot_uniform"
        self.add(
            kind,
            shape,
            fan_in * width + (width if bias else 0),
            units=width,
            use_bias=bias,
            initializer=init,
            **options,
        )
        if self.batch_norm:
            self.add("batch_norm", shape, 2 * width, 2 * width)  # gamma, beta | moving mean, variance
        self.add("activation", shape, activation=self.activation)

    def dropout(self, rate: float) -> None:
        if rate > 0:
            self.add("dropout", self.shape, rate=rate, alpha=self.self_normalising)


def _self_normalising(config: Mapping[str, Any]) -> bool:
    return choice(config, "selu_style", "standard", SELU_STYLES) == "self_normalising"


def _common(config: Mapping[str, Any], activations: tuple[str, ...]) -> tuple[str, bool, float, float]:
    activation = choice(config, "activation", "relu", activations)
    batch_norm = flag(config, "batch_norm", False)
    dropout = number(config, "dropout", 0.0, low=0.0, high=0.99)
    l2 = number(config, "l2", 0.0, low=0.0)
    return activation, batch_norm, dropout, l2


def _plan_mlp(config: Mapping[str, Any], input_shape: tuple[int, ...]) -> _Planner:
    activation, batch_norm, dropout, l2 = _common(config, ACTIVATIONS)
    l1 = number(config, "l1", 0.0, low=0.0)
    planner = _Planner(input_shape, activation, batch_norm, _self_normalising(config))
    if len(input_shape) > 1:
        planner.add("flatten", (math.prod(input_shape),))
    for units in layer_widths(config, "depth", "units", default_count=2, default_width=64):
        planner.weighted("dense", units, planner.shape[0], (units,), l1=l1, l2=l2)
        planner.dropout(dropout)
    return planner


def _plan_cnn(config: Mapping[str, Any], input_shape: tuple[int, ...], kind: str, name: str) -> _Planner:
    if kind != "image" or len(input_shape) != 3:
        raise ConfigError(
            f"the cnn family needs images (height, width, channels) but dataset {name!r} is {kind} "
            f"with input shape {input_shape}: use an MLP space such as mlp or tiny"
        )
    activation, batch_norm, dropout, l2 = _common(config, ACTIVATIONS)
    convs = integer(config, "convs_per_block", 1, low=1)
    kernel = integer(config, "kernel_size", 3, low=1)
    pooling = choice(config, "pooling", "max", ("max", "average"))
    head = choice(config, "head", "global_average", ("flatten", "global_average"))
    planner = _Planner(input_shape, activation, batch_norm, _self_normalising(config))
    for filters in layer_widths(config, "blocks", "filters", default_count=2, default_width=32):
        for _ in range(convs):
            height, width, channels = planner.shape
            planner.weighted(
                "conv",
                filters,
                kernel * kernel * channels,
                (height, width, filters),
                kernel_size=kernel,
                l2=l2,
            )
        height, width, channels = planner.shape
        # Pool an axis only while it has 2 or more cells, so deep configs fit small images (8x8 digits).
        pool = (2 if height >= 2 else 1, 2 if width >= 2 else 1)
        if pool != (1, 1):
            planner.add("pool", (height // pool[0], width // pool[1], channels), pool_size=pool, mode=pooling)
    if head == "flatten":
        planner.add("flatten", (math.prod(planner.shape),))
    else:
        planner.add("global_average", (planner.shape[-1],))
    dense_units = integer(config, "dense_units", 64, low=1)
    planner.weighted("dense", dense_units, planner.shape[0], (dense_units,), l1=0.0, l2=l2)
    planner.dropout(dropout)
    return planner


def plan(
    config: Mapping[str, Any],
    input_shape: tuple[int, ...],
    task: Task,
    n_outputs: int,
    *,
    kind: str = "tabular",
    family: str | None = None,
    dataset_name: str = "",
    input_scale: float = 1.0,
) -> Architecture:
    """The layers :func:`automl.model.build_model` builds for ``config`` (see the module doc).

    Raises:
        ConfigError: a value out of range or unknown, inconsistent per-layer widths, or a CNN config for a
            dataset that is not made of images (one line naming the fix).
    """
    chosen = infer_family(config, family)
    if chosen == "cnn":
        planner = _plan_cnn(config, tuple(input_shape), kind, dataset_name)
    else:
        planner = _plan_mlp(config, tuple(input_shape))
    width = planner.shape[0]
    planner.add(
        "output",
        (n_outputs,),
        width * n_outputs + n_outputs,
        units=n_outputs,
        activation=_OUTPUT_ACTIVATION[task],
    )
    layers = tuple(planner.layers)
    if input_scale != 1.0:
        layers = (LayerSpec("rescale", tuple(input_shape), options={"scale": 1.0 / input_scale}), *layers)
    return Architecture(chosen, tuple(input_shape), layers)


def plan_for(config: Mapping[str, Any], dataset: Dataset, family: str | None = None) -> Architecture:
    """:func:`plan` for ``dataset``'s input shape, kind and task."""
    return plan(
        config,
        dataset.input_shape,
        dataset.task,
        dataset.n_outputs,
        kind=dataset.kind,
        family=family,
        dataset_name=dataset.name,
        input_scale=dataset.input_scale,
    )


def count_params(config: Mapping[str, Any], dataset: Dataset, *, family: str | None = None) -> int:
    """Number of weights (trainable or not) of ``build_model(config, dataset)``, without building it.

    Raises:
        ConfigError: as :func:`plan`.
    """
    return plan_for(config, dataset, family).n_params


def estimate_memory(
    config: Mapping[str, Any],
    dataset: Dataset,
    *,
    family: str | None = None,
    batch_size: int | None = None,
) -> int:
    """Estimated bytes to train ``build_model(config, dataset)`` on one batch, at float32.

    ``4 · (P + T · (1 + S) + 2 · B · A)`` where ``P`` counts all weights, ``T`` the trainable ones (each
    has a gradient and ``S`` optimizer slots: adam/adamw 2, rmsprop 1 (+1 with momentum), sgd 0 (1 with
    momentum)), ``B`` is the batch size (``batch_size`` or the config's, default 32) and ``A`` the values
    per example in the input and every layer's output, counted twice: kept for the backward pass, and
    their gradients. TensorFlow's workspaces and allocator slack are not included: treat it as a lower
    bound for ranking and batch-size decisions, not an exact figure. Mixed precision roughly halves ``A``.

    Raises:
        ConfigError: as :func:`plan`.
    """
    architecture = plan_for(config, dataset, family)
    batch = batch_size if batch_size is not None else integer(config, "batch_size", 32, low=1)
    weights = architecture.n_params + architecture.trainable * (1 + optimizer_slots(config))
    activations = 2 * batch * architecture.activations_per_example
    return BYTES_PER_VALUE * (weights + activations)
