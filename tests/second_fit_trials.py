"""Hand-made complete trials of breast_cancer for the retrain's second fits (re-scoring, ensemble
selection): a config that learns, and one whose search score was luck."""

from __future__ import annotations

from automl.store import StudyInfo, TrialRecord, TrialState

INFO = StudyInfo(
    dataset="breast_cancer", dataset_fingerprint="", space="small", space_hash="h", task="binary",
    metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
)  # fmt: skip
GOOD = {"family": "mlp", "depth": 1, "units": 16, "batch_size": 32, "epochs": 4, "learning_rate": 1e-2}
#: learns little: an L1 penalty this strong pulls every weight to zero within an epoch or two
LUCKY = {**GOOD, "l1": 100.0, "learning_rate": 0.1}


def trial(number: int, score: float, config: dict, *, seed: int = 7, fit_seconds: float = 0.5) -> TrialRecord:
    """A complete trial that trained ``config``'s epochs in ``fit_seconds``, seeded ``seed + number``."""
    return TrialRecord(
        number=number, state=TrialState.COMPLETE, score=score, params={}, config=dict(config),
        best_epoch=int(config["epochs"]), epochs_run=int(config["epochs"]), stopped_by="max_epochs",
        fit_seconds=fit_seconds, seed=seed + number,
    )  # fmt: skip
