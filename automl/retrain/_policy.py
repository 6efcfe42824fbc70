"""Retraining the best configs on train + validation, one evaluation on the held-out test split.

Policy (README "Retraining"): each of the top K configs by *search validation score* is retrained on
train + validation with S seeds and scored once on the test split; test scores are reported (mean and
spread), never used to choose. The saved model is the top-1 config's first seed.

Epochs: ``"best"`` replays the search's best epoch on every train + validation row; ``N`` trains N epochs.
A winner whose epoch count was set by the budget rather than by convergence (``stopped_by`` pruned,
budget or max_epochs: a Hyperband bracket's 3 epochs are not a converged count) is retrained with early
stopping on a seeded slice of train + validation instead, up to the space's epoch budget.

Bagging (``bag="auto"``, the default, when the search scored trials by cross-validation): each config is
retrained as its K fold models instead, each early-stopped on its own fold, averaged in one model (see
:mod:`._bag`); no epoch count is replayed.

What is deployed (``ensemble="auto"``, the default): one Keras model averaging the top configs when the
search finished two or more (see :func:`deploy_plan`), else the top-1 config. ``final_fit`` deploys the
top-1 config refitted on every row instead.

Training is :func:`automl.train` (replay, not a second code path). Nothing else in automl reads the test
split.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._diskspace import writing
from automl.exceptions import Argument, UserError
from automl.retrain._bag import bag_folds, train_bag
from automl.store import RetrainPolicy, StudyInfo, TrialRecord, best_first

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.retrain._predictor import Predictor

__all__ = [
    "ENSEMBLE_SIZE",
    "DatasetRetrain",
    "RetrainedConfig",
    "SeedRun",
    "deploy_plan",
    "policy_of",
    "retrain_study",
    "top_configs",
]

_TRUNCATED = ("pruned", "budget", "max_epochs")

#: configs an ``auto`` ensemble averages. In benchmarks/quality.py at 60 s the top 3 averaged beat the
#: top-1 model on both regressions and on breast_cancer and digits (CHANGELOG, README "What to deploy").
#: Retraining them costs three trials' training, small next to a search of tens of trials.
ENSEMBLE_SIZE = 3


@dataclass
class SeedRun:
    seed: int
    epochs: int
    early_stopping: bool
    test: dict[str, float]


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
            "configs": [
                {**asdict(c), "test_mean": c.mean(self.metric), "test_std": c.spread(self.metric)}
                for c in self.configs
            ],
        }


def _test_scores(model: Any, dataset: Dataset, metric: str) -> dict[str, float]:
    from automl.metrics import metric_names, score
    from automl.training import predict

    output = predict(model, dataset.x_test)
    truth = dataset.y_test
    if not dataset.task.is_classification:
        output, truth = dataset.to_original_units(output), dataset.to_original_units(truth)
    names = dict.fromkeys([metric, *metric_names(dataset.task)])
    return {name: float(score(name, dataset.task, truth, output)) for name in names}


def top_configs(records: list[TrialRecord], info: StudyInfo, k: int) -> list[TrialRecord]:
    """The K best complete trials by validation score (the search's choice, never the test's)."""
    ranked = best_first(records, info.direction)
    if not ranked:
        raise UserError(
            f"study of dataset {info.dataset!r} has no complete trial to retrain; "
            "run or resume the search first"
        )
    return ranked[:k]


def deploy_plan(records: list[TrialRecord], info: StudyInfo, policy: RetrainPolicy) -> tuple[int, bool]:
    """How many top configs to retrain, and whether to deploy their average: ``(top_k, ensemble)``.

    The policy's ``ensemble=True`` averages ``top_k`` (default :data:`ENSEMBLE_SIZE`) configs; ``False``
    retrains ``top_k`` (default 1) and deploys the first. ``"auto"``: with ``top_k`` of 2 or more, the
    configs being retrained anyway are averaged; with ``top_k`` unset, the top :data:`ENSEMBLE_SIZE` are
    when the search finished at least two; otherwise the top-1 config alone. (A rule on the ensemble's
    cost was tried and dropped: its share of the search is about 3 / trials, so it only refused small
    searches, where the ensemble was measured to help, and made the default hard to predict.) The policy
    checked its values, alone and together, when it was made.
    """
    top_k, ensemble = policy.top_k, policy.ensemble
    if ensemble is True:
        return top_k or ENSEMBLE_SIZE, True
    if ensemble is False or policy.final_fit or top_k == 1:
        return top_k or 1, False
    ranked = best_first(records, info.direction)
    if len(ranked) < 2:
        return top_k or 1, False
    return top_k or ENSEMBLE_SIZE, True


def policy_of(policy: RetrainPolicy | None, **values: Any) -> RetrainPolicy:
    """``policy``, else the policy of ``values`` (the keyword arguments of the retrain functions); a
    caller gives one or the other.

    Raises:
        UserError: both given (a value that is not its default beside ``policy``), or a value the policy
            refuses.
    """
    if policy is None:
        return RetrainPolicy(**values)
    default = RetrainPolicy()
    given = [key for key, value in values.items() if value != getattr(default, key)]
    if given:
        arguments = {f"given{i}": Argument(key) for i, key in enumerate(given)}
        names = ", ".join(f"{{{field}}}" for field in arguments)
        raise UserError(
            f"give {{policy}} or {names}, not both: the policy holds every retrain value",
            policy=Argument("policy"),
            **arguments,
        )
    return policy


def retrain_study(
    dataset: Dataset,
    records: list[TrialRecord],
    info: StudyInfo,
    out_dir: Path,
    *,
    top_k: int | None = None,
    seeds: int = 1,
    epochs: str | int = "best",
    base_seed: int = 0,
    final_fit: bool = False,
    ensemble: bool | str = "auto",
    bag: bool | str = "auto",
    policy: RetrainPolicy | None = None,
) -> tuple[DatasetRetrain, Predictor]:
    """Retrain the top K configs of one study; save the deployed model in ``out_dir``; return the report
    and the deployed model as a :class:`Predictor`.

    The deployed model is the average of the top K configs' first seeds when :func:`deploy_plan` says so
    (``ensemble="auto"``, the default, or ``True``); else the top-1 config's first seed; with
    ``final_fit``, the top-1 config fitted again on every row (see :mod:`._final`). Test scores are those
    of the models before a final fit. With ``bag`` (see :func:`._bag.bag_folds`) each config's model is
    the average of its fold models. The values make a :class:`~automl.store.RetrainPolicy`, which may be
    given whole as ``policy`` instead.

    Raises:
        UserError: no complete trial, a value the policy refuses (see :class:`~automl.store.RetrainPolicy`),
            or a dataset that is not the one searched (its fingerprint differs).
    """
    from automl.datasets import baselines_on_test
    from automl.retrain._final import all_rows, ensemble_model, final_epochs
    from automl.retrain._predictor import Predictor
    from automl.training import train

    policy = policy_of(
        policy, top_k=top_k, seeds=seeds, epochs=epochs, final_fit=final_fit, ensemble=ensemble, bag=bag
    )
    seeds, epochs, final_fit = policy.seeds, policy.epochs, policy.final_fit
    top_k, ensemble = deploy_plan(records, info, policy)
    folds = bag_folds(info, policy)
    if info.dataset_fingerprint and dataset.fingerprint != info.dataset_fingerprint:
        raise UserError(
            f"dataset {dataset.name!r} is not the data this run searched (fingerprint changed); "
            "retrain with the same dataset, target and seed"
        )
    members: list[Any] = []
    saved_history: dict[str, Any] = {}
    retrained = []
    for rank, record in enumerate(top_configs(records, info, top_k), start=1):
        truncated = record.stopped_by in _TRUNCATED
        if folds:
            fixed = f"{epochs} epochs each" if epochs != "best" else "each early-stopped on its fold"
            epochs_policy, early = f"bag of {folds} fold models, {fixed}", epochs == "best"
            n_epochs = None if epochs == "best" else int(epochs)
        elif epochs != "best":
            epochs_policy, early, n_epochs = f"fixed {epochs}", False, int(epochs)
        elif truncated:
            epochs_policy, early = f"early stop on slice ({record.stopped_by})", True
            n_epochs = int(record.config.get("epochs", 100))
        else:
            epochs_policy, early, n_epochs = (
                f"best epoch {record.best_epoch}",
                False,
                int(record.best_epoch or 1),
            )
        entry = RetrainedConfig(rank, record.number, record.score, dict(record.config), epochs_policy)
        for offset in range(seeds):
            seed = base_seed + offset
            if folds:
                result = train_bag(
                    record.config, dataset, folds, seed=seed, metric=info.metric, epochs=n_epochs
                )
            else:
                result = train(
                    record.config,
                    dataset,
                    epochs=n_epochs,
                    seed=seed,
                    metric=info.metric,
                    fit_on="train_val",
                    early_stopping=early,
                )
            if result.failure is not None:
                raise UserError(
                    "retraining trial {number} failed ({failure}: {detail}); "
                    "try fewer {epochs} or another {top_k}",
                    number=record.number,
                    failure=result.failure,
                    detail=result.failure_detail,
                    epochs=Argument("epochs"),
                    top_k=Argument("top_k"),
                )
            entry.runs.append(
                SeedRun(seed, result.epochs_run, early, _test_scores(result.model, dataset, info.metric))
            )
            if offset == 0:
                members.append(result.model)
                saved_history = saved_history or result.history
        retrained.append(entry)

    report = DatasetRetrain(
        dataset=dataset.name,
        metric=info.metric,
        direction=info.direction,
        configs=retrained,
        test_baselines=baselines_on_test(dataset, info.metric),
        model_dir=str(out_dir),
        bag=folds,
    )
    deployed, preprocessor = members[0], dataset.preprocessor  # the policy holds top_k, seeds >= 1
    if ensemble and len(members) < 2:
        # A search that finished one config has nothing to average: its model is the deployed one. Only an
        # explicit ``ensemble=True`` gets here: ``auto`` asks for an ensemble only of two finished configs.
        logging.getLogger("automl.retrain").warning(
            "%s: one finished config, no ensemble: the top-1 model is deployed", dataset.name
        )
    elif ensemble:
        deployed = ensemble_model(members, dataset.input_shape)
        report.ensemble = {
            "members": [c.trial for c in retrained],
            "test": _test_scores(deployed, dataset, info.metric),
        }
    if final_fit:
        everything = all_rows(dataset)
        n_epochs = final_epochs([run.epochs for run in retrained[0].runs])
        result = train(
            retrained[0].config, everything, epochs=n_epochs, seed=base_seed, metric=info.metric,
            fit_on="train", early_stopping=False,
        )  # fmt: skip
        if result.failure is not None:
            raise UserError(
                f"the final fit failed ({result.failure}: {result.failure_detail}); retrain without it"
            )
        deployed, preprocessor, saved_history = result.model, everything.preprocessor, result.history
        report.final_fit = {
            "rows": len(everything.y_train),
            "epochs": n_epochs,
            "test_score": None,
            "note": "fitted on every row, test included: it has no honest test score of its own; "
            "test_score is the top-1 config's before the final fit",
        }
    with writing(out_dir, resume=False):  # a full disk: one line naming the folder (DiskFull)
        out_dir.mkdir(parents=True, exist_ok=True)
        deployed.save(out_dir / "model.keras")
        if preprocessor is not None:
            preprocessor.save(out_dir / "preprocessor.joblib")
        (out_dir / "config.json").write_text(json.dumps(retrained[0].config, indent=2) + "\n")
        (out_dir / "history.json").write_text(json.dumps(saved_history, indent=2, default=float) + "\n")
        (out_dir / "metrics.json").write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        (out_dir / "dataset.json").write_text(
            json.dumps({**dataset.summary(), "class_names": dataset.class_names}) + "\n"
        )
    return report, Predictor(deployed, preprocessor, task=dataset.task.value)
