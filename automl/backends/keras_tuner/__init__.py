"""The KerasTuner backend; the only package that imports keras_tuner."""

from automl.backends.keras_tuner._backend import KerasTunerBackend

__all__ = ["KerasTunerBackend"]
