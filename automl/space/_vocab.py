"""What the model builders understand: the parameter names of each family and the allowed words.

Kept here, without Keras, so a space file is checked completely before any TensorFlow import.
"""

from __future__ import annotations

__all__ = ["FAMILIES", "KNOWN_VALUES"]

_TRAINING = frozenset(
    {
        "optimizer",
        "momentum",
        "learning_rate",
        "lr_schedule",
        "decay_rate",
        "decay_every",
        "warmup_epochs",
        "hold_epochs",
        "plateau_patience",
        "piecewise_drop",
        "cosine_min_fraction",
        "batch_size",
        "epochs",
        "patience",
        "class_weight",
    }
)

#: family -> the parameter names its builder reads (per-layer parameters by their declared name).
FAMILIES: dict[str, frozenset[str]] = {
    "mlp": _TRAINING | {"depth", "units", "activation", "selu_style", "batch_norm", "dropout", "l1", "l2"},
    "cnn": _TRAINING
    | {
        "blocks",
        "filters",
        "convs_per_block",
        "kernel_size",
        "pooling",
        "head",
        "dense_units",
        "activation",
        "selu_style",
        "batch_norm",
        "dropout",
        "l2",
    },
}

#: parameter -> the only values a choice (or fixed) of that name may take.
KNOWN_VALUES: dict[str, frozenset[object]] = {
    "activation": frozenset({"relu", "elu", "selu", "gelu", "swish", "tanh", "leaky_relu", "sigmoid"}),
    "optimizer": frozenset({"adam", "adamw", "sgd", "rmsprop"}),
    "lr_schedule": frozenset(
        {"constant", "step", "piecewise", "exponential", "cosine", "warmup_hold_decay", "plateau"}
    ),
    "pooling": frozenset({"max", "average"}),
    "head": frozenset({"flatten", "global_average"}),
    "class_weight": frozenset({"none", "balanced"}),
    "selu_style": frozenset({"standard", "self_normalising"}),
}
