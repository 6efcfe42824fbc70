"""Every backend passes the shipped contract suite."""

from automl.testing import BackendContract


class TestOptunaRandom(BackendContract):
    backend = "optuna"
    algorithm = "random"
