"""Keras models from configurations: the layer plan made real, compiled for the dataset's task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from automl._keras import allowed_steps_per_execution, keras, set_seed
from automl.model._architecture import LayerSpec, plan_for
from automl.model._config import DEFAULT_STEPS_PER_EXECUTION, OPTIMIZERS, choice, integer, number
from automl.model._schedules import learning_rate_at
from automl.tasks import Task

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = ["build_model", "compile_for_task", "make_optimizer"]

_LOSSES = {
    Task.BINARY: "binary_crossentropy",
    Task.MULTICLASS: "sparse_categorical_crossentropy",
    Task.REGRESSION: "mean_squared_error",
}
# Short runs on small data: the default 0.99 leaves moving statistics far from the data for several
# epochs, so early validation scores (what pruners judge) would lie.
_BATCH_NORM_MOMENTUM = 0.9


def _task_metric(task: Task) -> keras.metrics.Metric:
    """The compiled training metric; its name is the task's default metric in :mod:`automl.metrics`."""
    if task is Task.BINARY:
        return keras.metrics.BinaryAccuracy(name="accuracy")
    if task is Task.MULTICLASS:
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    return keras.metrics.RootMeanSquaredError(name="rmse")


def make_optimizer(
    config: Mapping[str, Any], learning_rate: float | None = None
) -> keras.optimizers.Optimizer:
    """The configured optimizer with a plain float learning rate (``learning_rate`` or the config's).

    adam, adamw (``weight_decay`` [0.004]), sgd (``momentum`` [0], no Nesterov) or rmsprop (``momentum``
    [0]). A float rate (not a Keras schedule object) keeps saved models loadable with plain Keras.

    Raises:
        ConfigError: unknown optimizer or out-of-range value.
    """
    name = choice(config, "optimizer", "adam", OPTIMIZERS)
    lr = learning_rate if learning_rate is not None else number(config, "learning_rate", 1e-3, low=0.0)
    momentum = number(config, "momentum", 0.0, low=0.0, high=1.0)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    if name == "adamw":
        decay = number(config, "weight_decay", 0.004, low=0.0)
        return keras.optimizers.AdamW(learning_rate=lr, weight_decay=decay)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=lr, momentum=momentum, nesterov=False)
    return keras.optimizers.RMSprop(learning_rate=lr, momentum=momentum)


def _regularizer(l1: float, l2: float) -> keras.regularizers.Regularizer | None:
    if l1 > 0 and l2 > 0:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l1 > 0:
        return keras.regularizers.L1(l1)
    if l2 > 0:
        return keras.regularizers.L2(l2)
    return None  # no penalty term in the graph at all


def _layer(spec: LayerSpec) -> keras.layers.Layer:
    o = spec.options
    if spec.kind == "rescale":
        return keras.layers.Rescaling(o["scale"], name="rescale")
    if spec.kind == "dense":
        return keras.layers.Dense(
            o["units"],
            use_bias=o["use_bias"],
            kernel_initializer=o["initializer"],
            kernel_regularizer=_regularizer(o["l1"], o["l2"]),
        )
    if spec.kind == "conv":
        return keras.layers.Conv2D(
            o["units"],
            o["kernel_size"],
            padding="same",
            use_bias=o["use_bias"],
            kernel_initializer=o["initializer"],
            kernel_regularizer=_regularizer(0.0, o["l2"]),
        )
    if spec.kind == "batch_norm":
        return keras.layers.BatchNormalization(momentum=_BATCH_NORM_MOMENTUM)
    if spec.kind == "activation":
        return keras.layers.Activation(o["activation"])
    if spec.kind == "dropout":
        # selu_style: self_normalising: selu's self-normalisation survives only alpha dropout.
        return keras.layers.AlphaDropout(o["rate"]) if o["alpha"] else keras.layers.Dropout(o["rate"])
    if spec.kind == "pool":
        pool = keras.layers.MaxPooling2D if o["mode"] == "max" else keras.layers.AveragePooling2D
        return pool(pool_size=o["pool_size"])
    if spec.kind == "flatten":
        return keras.layers.Flatten()
    if spec.kind == "global_average":
        return keras.layers.GlobalAveragePooling2D()
    if spec.kind == "output":
        # float32 even under mixed precision: softmax / sigmoid / regression values need the range.
        return keras.layers.Dense(o["units"], activation=o["activation"], dtype="float32", name="output")
    raise AssertionError(f"unplanned layer kind {spec.kind!r}")


def compile_for_task(
    model: keras.Model,
    config: Mapping[str, Any],
    task: Task,
    *,
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
) -> keras.Model:
    """Compile ``model`` with the configured optimizer, the task's loss and its default metric.

    Loss: binary cross-entropy · sparse categorical cross-entropy · mean squared error (on standardised
    targets). Metric: ``accuracy`` or ``rmse`` (standardised units; :func:`automl.train` reports it in
    the target's units).
    """
    model.compile(
        optimizer=make_optimizer(config, learning_rate_at(config, 0, integer(config, "epochs", 1, low=1))),
        loss=_LOSSES[task],
        metrics=[_task_metric(task)],
        steps_per_execution=allowed_steps_per_execution(steps_per_execution),
    )
    return model


def build_model(
    config: Mapping[str, Any],
    dataset: Dataset,
    *,
    family: str | None = None,
    seed: int | None = None,
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
) -> keras.Model:
    """A compiled Keras model for ``config`` on ``dataset`` (architecture: :mod:`automl.model._architecture`).

    ``family`` (``"mlp"`` | ``"cnn"``) defaults to ``config["family"]``, else ``cnn`` when the config has
    ``blocks``, else ``mlp``. ``seed`` seeds Python, NumPy and Keras first, so the same seed gives the same
    initial weights. The caller owns Keras's global state: call :func:`automl._keras.clear_session`
    between trials (:func:`automl.train` does). The optimizer starts at the schedule's epoch-0 rate.

    Raises:
        ConfigError: a bad value, or a CNN config on a dataset that is not images (the message names the fix).
    """
    architecture = plan_for(config, dataset, family)
    if seed is not None:
        set_seed(seed)
    inputs = keras.Input(shape=architecture.input_shape, name="inputs")
    x = inputs
    for spec in architecture.layers:
        x = _layer(spec)(x)
    model = keras.Model(inputs, x, name=f"automl_{architecture.family}")
    return compile_for_task(model, config, dataset.task, steps_per_execution=steps_per_execution)
