"""Test helpers shipped with automl: the backend contract suite and tiny real fixtures."""

from automl.testing._fixtures import diverging_dataset, tiny_dataset, tiny_space
from automl.testing.backend_contract import LEADERBOARD_COLUMNS, BackendContract

__all__ = ["LEADERBOARD_COLUMNS", "BackendContract", "diverging_dataset", "tiny_dataset", "tiny_space"]
