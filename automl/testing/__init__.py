"""Test helpers shipped with automl: the backend contract suite, tiny real fixtures and a stub trainer."""

from automl.testing._fixtures import diverging_dataset, tiny_dataset, tiny_space
from automl.testing._stub import StubTrainer, stub_score
from automl.testing.backend_contract import LEADERBOARD_COLUMNS, BackendContract

__all__ = [
    "LEADERBOARD_COLUMNS",
    "BackendContract",
    "StubTrainer",
    "diverging_dataset",
    "stub_score",
    "tiny_dataset",
    "tiny_space",
]
