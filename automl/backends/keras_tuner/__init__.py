"""The KerasTuner backend; the only package that imports keras_tuner.

Imported lazily: the supervisor reads :mod:`._chief`'s process environment without importing TensorFlow.
"""

from typing import Any

__all__ = ["KerasTunerBackend"]


def __getattr__(name: str) -> Any:
    if name == "KerasTunerBackend":
        from automl.backends.keras_tuner._backend import KerasTunerBackend

        return KerasTunerBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
