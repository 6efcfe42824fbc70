"""Retraining the best configs on train + validation, one evaluation on the held-out test split.

Policy (README "Retraining"): each of the top K configs by *search validation score* is retrained on
train + validation with S seeds and scored once on the test split; test scores are reported (mean and
spread), never used to choose. The saved model is the top-1 config's first seed.

Epochs: ``"best"`` replays the search's best epoch on every train + validation row; ``N`` trains N epochs.
A winner whose epoch count was set by the budget rather than by convergence (``stopped_by`` pruned,
budget or max_epochs: a Hyperband bracket's 3 epochs are not a converged count) is retrained with early
stopping on a seeded slice of train + validation instead, up to the space's epoch budget.

Training is :func:`automl.train` (replay, not a second code path). Nothing else in automl reads the test
split.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.exceptions import UserError
from automl.store import StudyInfo, TrialRecord, best_first

if TYPE_CHECKING:
    from automl.datasets import Dataset, Preprocessor
    from automl.store import DatasetEntry

__all__ = ["DatasetRetrain", "Predictor", "RetrainedConfig", "load_model", "retrain_run", "retrain_study"]

_TRUNCATED = ("pruned", "budget", "max_epochs")


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

    @property
    def test_score(self) -> float:
        """Mean test score of the saved (top-1) config over its seeds."""
        return self.configs[0].mean(self.metric)

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
            "test_baselines": self.test_baselines,
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


def retrain_study(
    dataset: Dataset,
    records: list[TrialRecord],
    info: StudyInfo,
    out_dir: Path,
    *,
    top_k: int = 1,
    seeds: int = 1,
    epochs: str | int = "best",
    base_seed: int = 0,
) -> tuple[DatasetRetrain, Any]:
    """Retrain the top K configs of one study; save the top-1 model in ``out_dir``; return (report, model).

    Raises:
        UserError: no complete trial, ``top_k`` or ``seeds`` below 1, a bad ``epochs`` value, or a dataset
            that is not the one searched (its fingerprint differs).
    """
    from automl.datasets import baselines_on_test
    from automl.training import train

    if top_k < 1:
        raise UserError(f"`top_k` must be at least 1, but got {top_k}")
    if seeds < 1:
        raise UserError(f"`seeds` must be at least 1, but got {seeds}")
    if not (epochs == "best" or (isinstance(epochs, int) and epochs >= 1)):
        raise UserError(f"`epochs` must be 'best' or a positive number of epochs, but got {epochs!r}")
    if info.dataset_fingerprint and dataset.fingerprint != info.dataset_fingerprint:
        raise UserError(
            f"dataset {dataset.name!r} is not the data this run searched (fingerprint changed); "
            "retrain with the same dataset, target and seed"
        )
    saved_model = None
    saved_history: dict[str, Any] = {}
    retrained = []
    for rank, record in enumerate(top_configs(records, info, top_k), start=1):
        truncated = record.stopped_by in _TRUNCATED
        if epochs != "best":
            policy, early, n_epochs = f"fixed {epochs}", False, int(epochs)
        elif truncated:
            policy, early = f"early stop on slice ({record.stopped_by})", True
            n_epochs = int(record.config.get("epochs", 100))
        else:
            policy, early, n_epochs = (
                f"best epoch {record.best_epoch}",
                False,
                int(record.best_epoch or 1),
            )
        entry = RetrainedConfig(rank, record.number, record.score, dict(record.config), policy)
        for offset in range(seeds):
            seed = base_seed + offset
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
                    f"retraining trial {record.number} failed ({result.failure}: {result.failure_detail}); "
                    "try fewer `epochs` or another `top_k`"
                )
            entry.runs.append(
                SeedRun(seed, result.epochs_run, early, _test_scores(result.model, dataset, info.metric))
            )
            if saved_model is None:
                saved_model, saved_history = result.model, result.history
        retrained.append(entry)

    report = DatasetRetrain(
        dataset=dataset.name,
        metric=info.metric,
        direction=info.direction,
        configs=retrained,
        test_baselines=baselines_on_test(dataset, info.metric),
        model_dir=str(out_dir),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    assert saved_model is not None  # top_k >= 1 and seeds >= 1 were checked above
    saved_model.save(out_dir / "model.keras")
    if dataset.preprocessor is not None:
        dataset.preprocessor.save(out_dir / "preprocessor.joblib")
    (out_dir / "config.json").write_text(json.dumps(retrained[0].config, indent=2) + "\n")
    (out_dir / "history.json").write_text(json.dumps(saved_history, indent=2, default=float) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
    (out_dir / "dataset.json").write_text(
        json.dumps({**dataset.summary(), "class_names": dataset.class_names}) + "\n"
    )
    return report, saved_model


class Predictor:
    """A retrained model joined with its fitted preprocessing: predictions on raw inputs.

    What :meth:`automl.AutoMLSearch.retrain` returns and :func:`automl.load_model` loads. ``predict`` gives
    class labels as in the training data, or regression values in original units; ``predict_proba``
    gives class probabilities ``(n, k)``; ``score`` is scikit-learn's default (accuracy, or R²). The
    Keras model is ``.model`` (it expects preprocessed inputs; ``model.keras`` on disk loads with plain
    Keras).
    """

    def __init__(self, model: Any, preprocessor: Preprocessor | None, *, task: str) -> None:
        self.model = model
        self.preprocessor = preprocessor
        self.task = task

    @property
    def classes_(self) -> tuple[str, ...] | None:
        """The class names in ``predict_proba``'s column order (None for regression or unknown)."""
        return None if self.preprocessor is None else self.preprocessor.class_names_

    def __repr__(self) -> str:
        return (
            f"Predictor(task={self.task!r}, model={getattr(self.model, 'name', type(self.model).__name__)!r})"
        )

    def _outputs(self, raw: Any) -> np.ndarray:
        from automl.training import predict

        inputs = (
            np.asarray(raw, dtype="float32")
            if self.preprocessor is None
            else self.preprocessor.transform(raw)
        )
        return predict(self.model, inputs)

    def predict_proba(self, raw: Any) -> np.ndarray:
        from automl.metrics import probabilities

        if self.task == "regression":
            raise UserError("predict_proba applies to classification; this model predicts values")
        return probabilities(self._outputs(raw))

    def predict(self, raw: Any) -> np.ndarray:
        output = self._outputs(raw)
        if self.task == "regression":
            values = output.reshape(-1)
            return values if self.preprocessor is None else self.preprocessor.inverse_target(values)
        from automl.metrics import probabilities

        labels = probabilities(output).argmax(axis=1)
        return labels if self.preprocessor is None else self.preprocessor.decode_labels(labels)

    def score(self, raw: Any, y: Any) -> float:
        """Accuracy for classification, R² for regression, on raw rows and labels as in the training data."""
        from sklearn.metrics import accuracy_score, r2_score

        truth = np.asarray(y).reshape(-1)
        predicted = self.predict(raw)
        if self.task == "regression":
            return float(r2_score(truth.astype(float), predicted))
        try:
            return float(accuracy_score(truth, predicted))
        except (TypeError, ValueError):  # labels given as text for numbers, or the other way round
            return float(accuracy_score(truth.astype(str), np.asarray(predicted).astype(str)))


def load_model(run_dir: str | Path, dataset: str) -> Predictor:
    """The retrained model of ``dataset`` in a run, as a :class:`Predictor` on raw inputs.

    Raises:
        UserError: the run has no retrained model for that dataset (names the command that makes one).
    """
    from automl._keras import keras
    from automl.datasets import Preprocessor

    folder = Path(run_dir) / "models" / dataset
    if not (folder / "model.keras").exists():
        available = sorted(
            p.name for p in (Path(run_dir) / "models").glob("*") if (p / "model.keras").exists()
        )
        hint = f" (retrained: {', '.join(available)})" if available else ""
        raise UserError(
            f"no retrained model for dataset {dataset!r} in {run_dir}{hint}; run `automl retrain {run_dir}`"
        )
    info = json.loads((folder / "dataset.json").read_text())
    model = keras.models.load_model(folder / "model.keras")
    return Predictor(model, Preprocessor.load(folder / "preprocessor.joblib"), task=info["task"])


def _reload_dataset(entry: DatasetEntry, seed: int) -> Dataset:
    """The searched splits of ``entry`` again: its recorded source, target and split, the validation and
    test files it was given (refused if their bytes changed) and the run's seed."""
    from automl.datasets import load_dataset
    from automl.store import file_sha256

    source = entry.source
    if not source or source in ("DataFrame", "arrays"):
        raise UserError(
            f"dataset {entry.name!r} came from Python objects, which the run cannot reload; "
            "retrain from Python with AutoMLSearch.retrain()"
        )
    for what, file, recorded in (
        ("validation", entry.validation_file, entry.validation_sha256),
        ("test", entry.test_file, entry.test_sha256),
    ):
        if file is None:
            continue
        if not Path(file).is_file():
            raise UserError(f"the {what} file {file} of dataset {entry.name!r} is missing; restore it")
        if recorded is not None and file_sha256(file) != recorded:
            raise UserError(
                f"the {what} file {file} of dataset {entry.name!r} changed since the search (its SHA-256 "
                "differs); restore the file the run was given"
            )
    return load_dataset(
        source,
        target=entry.target,
        task=entry.task,
        seed=seed,
        name=entry.name,
        persistence=entry.persistence,
        split=entry.split or "random",
        validation=entry.validation_file,
        test=entry.test_file,
        val_fraction=entry.val_fraction,
        test_fraction=entry.test_fraction,
    )


def retrain_run(
    run_dir: str | Path,
    *,
    top_k: int = 1,
    seeds: int = 1,
    epochs: str | int = "best",
    dataset: str | None = None,
    data: Dataset | None = None,
) -> list[DatasetRetrain]:
    """Retrain the best model of every dataset of a run (or of ``dataset``) into ``<run>/models/<dataset>/``.

    When several spaces searched a dataset, the study with the best validation score is retrained.

    ``data`` supplies the dataset in memory (the Python API), instead of reloading it from the run.
    """
    from automl.store import load_records, load_study_info, open_run

    run, manifest, storage = open_run(run_dir)
    entries = {d.name: d for d in manifest.datasets}
    if dataset is not None and dataset not in entries:
        raise UserError(f"the run has no dataset {dataset!r}; it searched: {', '.join(entries) or 'none'}")
    seed = manifest.seed
    # Several spaces may have searched one dataset: the study with the best validation score wins it,
    # so models/<dataset>/ holds the dataset's best model (one model per dataset).
    chosen: dict[str, tuple[str, StudyInfo, list[TrialRecord], float]] = {}
    for name in manifest.studies:
        info = load_study_info(storage, name)
        if dataset is not None and info.dataset != dataset:
            continue
        records = load_records(storage, name)
        ranked = best_first(records, info.direction)
        top = ranked[0].score if ranked else None
        # Compared on one scale whatever the direction: higher is better.
        best = -math.inf if top is None else (top if info.direction == "maximize" else -top)
        if info.dataset not in chosen or best > chosen[info.dataset][3]:
            chosen[info.dataset] = (name, info, records, best)
    reports = []
    for name_of_dataset, (_, info, records, _) in chosen.items():
        loaded = (
            data
            if data is not None and data.name == name_of_dataset
            else _reload_dataset(entries[name_of_dataset], seed)
        )
        report, _ = retrain_study(
            loaded,
            records,
            info,
            run.models_dir / name_of_dataset,
            top_k=top_k,
            seeds=seeds,
            epochs=epochs,
            base_seed=seed,
        )
        reports.append(report)
    if not reports:
        raise UserError(f"{run_dir}: nothing to retrain (no study yet); run a search first")
    return reports
