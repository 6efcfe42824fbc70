"""What a retrain reports: each retrained config's runs (:class:`SeedRun`, :class:`RetrainedConfig`) and
the whole retrain of one study (:class:`DatasetRetrain`), written as ``metrics.json`` beside the model."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DatasetRetrain", "RetrainedConfig", "SeedRun"]


@dataclass
class SeedRun:
    seed: int
    epochs: int
    early_stopping: bool
    test: dict[str, float]
    #: seconds the fit took (a bag's: its folds' together)
    seconds: float = 0.0
    #: the retrain's time limit ended the fit before its epochs (it keeps those it trained)
    cut_short: bool = False


@dataclass
class RetrainedConfig:
    """One of the top K configs, retrained with several seeds."""

    rank: int
    trial: int
    validation_score: float | None
    config: dict[str, Any]
    epochs_policy: str
    runs: list[SeedRun] = field(default_factory=list)

    def mean(self, metric: str) -> float:
        values = [r.test[metric] for r in self.runs if math.isfinite(r.test.get(metric, math.nan))]
        return statistics.fmean(values) if values else math.nan

    def spread(self, metric: str) -> float:
        values = [r.test[metric] for r in self.runs if math.isfinite(r.test.get(metric, math.nan))]
        return statistics.stdev(values) if len(values) > 1 else 0.0


@dataclass
class DatasetRetrain:
    """What retraining one study produced; written as ``metrics.json`` beside the saved model."""

    dataset: str
    metric: str
    direction: str
    configs: list[RetrainedConfig]
    test_baselines: dict[str, float]
    model_dir: str
    #: the ensemble saved instead of the top-1 model: its members' trials and its own test scores.
    ensemble: dict[str, Any] | None = None
    #: the final fit saved instead: rows and epochs it learned from (it has no test score of its own).
    final_fit: dict[str, Any] | None = None
    #: fold models averaged per config (0: one model on train + validation per config).
    bag: int = 0
    #: wall seconds of this retrain (its fits and test scores; not the data's reload nor the files written),
    #: the limit it ran under, and the search's wall time (:func:`automl.store.search_seconds`) beside it
    seconds: float = 0.0
    time_limit: float | None = None
    search_seconds: float | None = None
    #: models the time limit left out: ``{"trial", "seed", "estimated_seconds"}`` (trial None: the final fit)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    #: which config was picked and how (:meth:`automl.retrain._pick.Picked.to_dict`): the rule, its
    #: tolerance, and the picked and the best config's validation score and footprint
    pick: dict[str, Any] | None = None
    #: the top configs trained again with a second seed before the top K were taken, in their search
    #: order (:meth:`automl.retrain._rescore.Rescored.to_dict`); None when not asked
    rescored: list[dict[str, Any]] | None = None
    #: how the ensemble's members were chosen (:meth:`automl.retrain._select.Selection.to_dict`); None
    #: when not asked
    selection: dict[str, Any] | None = None

    @property
    def deployed(self) -> str:
        """What ``model.keras`` holds: ``top-1``, ``ensemble`` or ``final-fit``."""
        return "final-fit" if self.final_fit else "ensemble" if self.ensemble else "top-1"

    @property
    def test_score(self) -> float:
        """Mean test score of the top-1 config over its seeds."""
        return self.configs[0].mean(self.metric)

    @property
    def deployed_test_score(self) -> float:
        """Test score of what ``model.keras`` holds: the ensemble's, else the top-1 config's (a final fit
        has none of its own: the top-1 config's before it)."""
        return float(self.ensemble["test"][self.metric]) if self.ensemble else self.test_score

    def to_dict(self) -> dict[str, Any]:
        best = self.configs[0]
        return {
            "dataset": self.dataset,
            "metric": self.metric,
            "direction": self.direction,
            "saved": {"trial": best.trial, "seed": best.runs[0].seed, "config": best.config},
            "validation_score": best.validation_score,
            "test_score": self.test_score,
            "test_score_std": best.spread(self.metric),
            "deployed_test_score": self.deployed_test_score,
            "test_baselines": self.test_baselines,
            "deployed": self.deployed,
            "ensemble": self.ensemble,
            "final_fit": self.final_fit,
            "bag": self.bag,
            "search_seconds": None if self.search_seconds is None else round(self.search_seconds, 2),
            "retrain_seconds": round(self.seconds, 2),
            "time_limit": self.time_limit,
            "skipped": self.skipped,
            "pick": self.pick,
            "rescored": self.rescored,
            "selection": self.selection,
            "configs": [
                {**asdict(c), "test_mean": c.mean(self.metric), "test_std": c.spread(self.metric)}
                for c in self.configs
            ],
        }
