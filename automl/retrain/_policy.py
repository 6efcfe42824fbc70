"""Retraining the best configs on train + validation, one evaluation on the held-out test split.

Policy (README "Retraining"): each of the top K configs by *search validation score* is retrained on
train + validation with S seeds and scored once on the test split; test scores are reported (mean and
spread), never used to choose. The saved model is the top-1 config's first seed.

Epochs: ``"best"`` replays the search's best epoch on every train + validation row; ``N`` trains N epochs.
A winner whose epoch count was set by a schedule rather than by convergence (``stopped_by`` pruned or
max_epochs: a Hyperband bracket's 3 epochs are not a converged count) is retrained with early stopping on
a seeded slice of train + validation instead, up to the space's epoch budget. A winner stopped by the
search's *time* budget replays its best epoch too: the user's time bounded it, and early stopping up to
the space's 50 epochs made the retrain of a 10-minute search take 40 minutes (:mod:`._time`).

Time: ``time_limit`` bounds the retrain; models after the top-1 config's first are trained only if they
fit in what is left (:mod:`._time`), and what is skipped is reported.

Bagging (``bag="auto"``, the default, when the search scored trials by cross-validation): each config is
retrained as its K fold models instead, each early-stopped on its own fold, averaged in one model (see
:mod:`._bag`); no epoch count is replayed.

What is deployed (``ensemble="auto"``, the default): one Keras model averaging the top configs when the
search finished two or more (see :func:`deploy_plan`), else the top-1 config. ``final_fit`` deploys the
top-1 config refitted on every row instead.

Which configs are the top ones (``pick``, see :mod:`._pick`): ``best`` (the default) ranks them by
validation score; ``smallest-within TOL`` / ``fastest-within TOL`` by saved size / latency among those within
TOL of the best score, and deploys the first alone (no ensemble, no bag) unless ``top_k`` and
``ensemble=True`` ask for an average. ``metrics.json`` records the pick with both the picked and the best
config's score and footprint.

Training is :func:`automl.train` (replay, not a second code path). Nothing else in automl reads the test
split.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.exceptions import Argument, UserError
from automl.outcomes import FailureKind
from automl.retrain._bag import bag_folds, train_bag
from automl.retrain._pick import pick_configs
from automl.retrain._report import DatasetRetrain, RetrainedConfig, SeedRun
from automl.retrain._rescore import Rescored, describe_rescore, rescore_configs
from automl.retrain._select import Selection, describe_selection, select_members
from automl.retrain._time import RetrainClock, time_limit_of
from automl.store import QuietFootprint, RetrainPolicy, StudyInfo, TrialRecord, best_first, search_seconds

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.retrain._predictor import Predictor
    from automl.training import TrainResult

__all__ = [
    "BAGGED_ENSEMBLE_SIZE",
    "ENSEMBLE_SIZE",
    "deploy_plan",
    "policy_of",
    "retrain_study",
    "top_configs",
]

#: how a trial ended when its epoch count is not a converged one, and a time budget did not set it
_TRUNCATED = ("pruned", "max_epochs")

#: configs an ``auto`` ensemble averages when each member is one model. In benchmarks/quality.py at 60 s
#: the top 3 averaged beat the top-1 model on both regressions, breast_cancer and digits; on the mid-size
#: cases the top 5 were level with or ahead of the top 3 on all five and narrowed the seed spread on the
#: noisiest (CHANGELOG, README "What to deploy"). Retraining them costs five trials' training, small next
#: to a search of tens of trials.
ENSEMBLE_SIZE = 5

#: members when each is already a bag of K fold models (a cross-validated search, small data): there the
#: top 5 tied with the top 3 on all five small tables, at 5/3 of a retrain that trains K models a config.
BAGGED_ENSEMBLE_SIZE = 3


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

    The policy's ``ensemble=True`` averages ``top_k`` configs (default :data:`ENSEMBLE_SIZE`, or
    :data:`BAGGED_ENSEMBLE_SIZE` when each config is bagged); ``False`` retrains ``top_k`` (default 1)
    and deploys the first. ``"auto"``: with ``top_k`` of 2 or more, the configs being retrained anyway are
    averaged; with ``top_k`` unset, the default number are when the search finished at least two;
    otherwise the top-1 config alone. (A rule on the ensemble's cost was tried and dropped: its share of
    the search is about members / trials, so it only refused small searches, where the ensemble was
    measured to help, and made the default hard to predict.) The policy checked its values, alone and
    together, when it was made. A ``pick`` other than ``best`` deploys one model unless ``ensemble=True``
    (the policy then holds ``top_k`` too).
    """
    top_k, ensemble = policy.top_k, policy.ensemble
    size = BAGGED_ENSEMBLE_SIZE if bag_folds(info, policy) else ENSEMBLE_SIZE
    if ensemble is True:
        return top_k or size, True
    # A pick of the smallest or fastest config deploys it alone: an average multiplies its footprint.
    if ensemble is False or policy.final_fit or top_k == 1 or policy.pick != "best":
        return top_k or 1, False
    ranked = best_first(records, info.direction)
    if len(ranked) < 2:
        return top_k or 1, False
    return top_k or size, True


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


def _epoch_plan(record: TrialRecord, epochs: str | int, folds: int) -> tuple[str, bool, int | None]:
    """How one config is retrained: ``(epochs_policy, early_stopping, epochs)`` (see the module doc)."""
    if folds:
        fixed = f"{epochs} epochs each" if epochs != "best" else "each early-stopped on its fold"
        return (
            f"bag of {folds} fold models, {fixed}",
            epochs == "best",
            None if epochs == "best" else int(epochs),
        )
    if epochs != "best":
        return f"fixed {epochs}", False, int(epochs)
    if record.stopped_by in _TRUNCATED:
        return f"early stop on slice ({record.stopped_by})", True, int(record.config.get("epochs", 100))
    best = int(record.best_epoch or record.epochs_run or 1)
    if record.stopped_by == "budget":
        return f"best epoch {best} (the search's time budget stopped it)", False, best
    return f"best epoch {best}", False, best


def _planned_epochs(record: TrialRecord, early: bool, n_epochs: int | None) -> int:
    """Epochs an estimate counts: those fixed, else (early stopping) as many as the trial trained."""
    return int(n_epochs) if n_epochs is not None and not early else max(1, record.epochs_run)


def _fit(
    record: TrialRecord,
    dataset: Dataset,
    info: StudyInfo,
    *,
    folds: int,
    seed: int,
    epochs: int | None,
    early: bool,
    time_limit: float | None,
) -> TrainResult:
    """One retrained model of ``record``'s config (a bag of ``folds`` fold models, else one on train +
    validation); a fit the time limit cut short after an epoch is kept.

    Raises:
        UserError: the fit failed.
    """
    from automl.training import train

    if folds:
        result = train_bag(
            record.config, dataset, folds, seed=seed, metric=info.metric, epochs=epochs, time_limit=time_limit
        )
    else:
        result = train(
            record.config, dataset, epochs=epochs, seed=seed, metric=info.metric, fit_on="train_val",
            early_stopping=early, time_limit=time_limit,
        )  # fmt: skip
    if result.failure is not None and not (result.failure is FailureKind.TIMEOUT and result.epochs_run):
        raise UserError(
            "retraining trial {number} failed ({failure}: {detail}); try fewer {epochs} or another {top_k}",
            number=record.number,
            failure=result.failure,
            detail=result.failure_detail,
            epochs=Argument("epochs"),
            top_k=Argument("top_k"),
        )
    return result


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
    time_limit: float | str | None = "auto",
    pick: str = "best",
    rescore: int = 0,
    ensemble_from: int = 0,
    policy: RetrainPolicy | None = None,
    search_budget: float | None = None,
    quiet: QuietFootprint | None = None,
) -> tuple[DatasetRetrain, Predictor]:
    """Retrain the top K configs of one study; save the deployed model in ``out_dir``; return the report
    and the deployed model as a :class:`Predictor`.

    The deployed model is the average of the top K configs' first seeds when :func:`deploy_plan` says so
    (``ensemble="auto"``, the default, or ``True``); else the top-1 config's first seed; with
    ``final_fit``, the top-1 config fitted again on every row (see :mod:`._final`). Test scores are those
    of the models before a final fit. With ``bag`` (see :func:`._bag.bag_folds`) each config's model is
    the average of its fold models. The values make a :class:`~automl.store.RetrainPolicy`, which may be
    given whole as ``policy`` instead. ``time_limit="auto"`` is ``search_budget``, the seconds the search
    was given (None: no limit); every model after the top-1 config's first is trained only if it fits in
    what is left of the limit (see :mod:`._time`). ``pick`` orders the configs (see :mod:`._pick`; the
    top-1 config is then the picked one); ``rescore``: how many top configs are trained again with a second
    seed and ranked by the mean of both validation scores first (see :mod:`._rescore`); ``ensemble_from``:
    how many top configs the ensemble's members are chosen from (see :mod:`._select`); ``quiet``: the
    study's latencies measured again (:func:`automl.training.remeasure_front`), which a pick of the
    fastest config uses while current.

    Raises:
        UserError: no complete trial, a value the policy refuses (see :class:`~automl.store.RetrainPolicy`),
            a pick the study cannot answer (:func:`automl.retrain.check_pick`), or a dataset that is not
            the one searched (its fingerprint differs).
    """
    from automl.datasets import baselines_on_test
    from automl.retrain._final import all_rows, ensemble_model, final_epochs, save_retrained
    from automl.retrain._predictor import Predictor
    from automl.training import train

    policy = policy_of(
        policy, top_k=top_k, seeds=seeds, epochs=epochs, final_fit=final_fit, ensemble=ensemble, bag=bag,
        time_limit=time_limit, pick=pick, rescore=rescore, ensemble_from=ensemble_from,
    )  # fmt: skip
    seeds, epochs, final_fit = policy.seeds, policy.epochs, policy.final_fit
    picked = pick_configs(records, info, policy.pick, quiet=quiet)
    top_k, ensemble = deploy_plan(records, info, policy)
    folds = bag_folds(info, policy)
    if info.dataset_fingerprint and dataset.fingerprint != info.dataset_fingerprint:
        raise UserError(
            f"dataset {dataset.name!r} is not the data this run searched (fingerprint changed); "
            "retrain with the same dataset, target and seed"
        )
    n_train = max(1, len(dataset.y_train))
    clock = RetrainClock(time_limit_of(policy, search_budget), rows=(n_train + len(dataset.y_val)) / n_train)
    log = logging.getLogger("automl.retrain")
    members: list[Any] = []
    saved_history: dict[str, Any] = {}
    retrained: list[RetrainedConfig] = []
    skipped: list[dict[str, Any]] = []
    rescored: list[Rescored] = []
    if policy.rescore:
        picked.order, rescored = rescore_configs(
            picked.order, dataset, info, policy.rescore, time_limit=clock.left()
        )
        log.info("%s: %s", dataset.name, describe_rescore(rescored, picked.order[:top_k]))
    selection: Selection | None = None
    if policy.ensemble_from and ensemble:
        default = [r.number for r in picked.order[:top_k]]
        picked.order, selection = select_members(
            picked.order, dataset, info, policy.ensemble_from, top_k, time_limit=clock.left()
        )
        top_k = len(selection.members) or top_k
        ensemble = top_k >= 2  # one config trained in the time: it is deployed alone
        log.info("%s: %s", dataset.name, describe_selection(selection, default))
    chosen = picked.order[:top_k]
    if picked.measure is not None:
        log.info("%s: %s", dataset.name, picked.describe())
    for rank, record in enumerate(chosen, start=1):
        epochs_policy, early, n_epochs = _epoch_plan(record, epochs, folds)
        entry = RetrainedConfig(rank, record.number, record.score, dict(record.config), epochs_policy)
        for offset in range(seeds):
            seed = base_seed + offset
            estimate = clock.estimate(record, _planned_epochs(record, early, n_epochs))
            # The top-1 config's first model is the deployable minimum: always trained. A config whose first
            # model was left out gets no other seed.
            if (rank, offset) != (1, 0) and ((offset and not entry.runs) or not clock.fits(estimate)):
                skipped.append({"trial": record.number, "seed": seed, "estimated_seconds": estimate})
                continue
            result = _fit(
                record, dataset, info, folds=folds, seed=seed, epochs=n_epochs, early=early,
                time_limit=clock.left(),
            )  # fmt: skip
            clock.measured(record, result.fit_seconds, result.epochs_run)
            test = _test_scores(result.model, dataset, info.metric)
            cut = result.failure is not None
            entry.runs.append(
                SeedRun(seed, result.epochs_run, early, test, round(result.fit_seconds, 2), cut)
            )
            if offset == 0:
                members.append(result.model)
                saved_history = saved_history or result.history
        if entry.runs:
            retrained.append(entry)
    if skipped:
        log.warning(
            "%s: the retrain's time limit (%s s) left out %d model(s) (trials %s); raise `time_limit` to "
            "train them",
            dataset.name,
            f"{clock.limit:.0f}",
            len(skipped),
            ", ".join(str(s["trial"]) for s in skipped),
        )

    report = DatasetRetrain(
        dataset=dataset.name,
        metric=info.metric,
        direction=info.direction,
        configs=retrained,
        test_baselines=baselines_on_test(dataset, info.metric),
        model_dir=str(out_dir),
        bag=folds,
        time_limit=clock.limit,
        search_seconds=search_seconds(records),
        skipped=skipped,
        pick=picked.to_dict(),
        rescored=[r.to_dict() for r in rescored] or None,
        selection=None if selection is None else selection.to_dict(),
    )
    # The top-1 config's first model is always trained.
    deployed, preprocessor = members[0], dataset.preprocessor
    if ensemble and len(members) < 2:
        # A search that finished one config has nothing to average: its model is the deployed one. Only an
        # explicit ``ensemble=True`` gets here without a time limit: ``auto`` asks for an ensemble only of
        # two finished configs.
        why = "the time limit left one config" if skipped else "one finished config"
        log.warning("%s: %s, no ensemble: the top-1 model is deployed", dataset.name, why)
    elif ensemble:
        deployed = ensemble_model(members, dataset.input_shape)
        report.ensemble = {
            "members": [c.trial for c in retrained],
            "test": _test_scores(deployed, dataset, info.metric),
        }
    if final_fit:
        everything = all_rows(dataset)
        n_epochs = final_epochs([run.epochs for run in retrained[0].runs])
        estimate = clock.estimate(chosen[0], n_epochs)
        rows = len(everything.y_train) / max(1, len(dataset.y_train) + len(dataset.y_val))
        if not clock.fits(None if estimate is None else estimate * rows):
            skipped.append({"trial": None, "seed": base_seed, "estimated_seconds": estimate})
            log.warning(
                "%s: the final fit does not fit in the retrain's time limit; the model before it is deployed",
                dataset.name,
            )
        else:
            result = train(
                retrained[0].config, everything, epochs=n_epochs, seed=base_seed, metric=info.metric,
                fit_on="train", early_stopping=False, time_limit=clock.left(),
            )  # fmt: skip
            if result.failure is not None and not (
                result.failure is FailureKind.TIMEOUT and result.epochs_run
            ):
                raise UserError(
                    f"the final fit failed ({result.failure}: {result.failure_detail}); retrain without it"
                )
            deployed, preprocessor, saved_history = result.model, everything.preprocessor, result.history
            report.final_fit = {
                "rows": len(everything.y_train),
                "epochs": result.epochs_run,
                "test_score": None,
                "note": "fitted on every row, test included: it has no honest test score of its own; "
                "test_score is the top-1 config's before the final fit",
            }
    report.seconds = clock.elapsed  # writing the files below is not counted
    save_retrained(
        out_dir, deployed, preprocessor, config=retrained[0].config, history=saved_history, report=report,
        dataset=dataset,
    )  # fmt: skip
    return report, Predictor(deployed, preprocessor, task=dataset.task.value)
