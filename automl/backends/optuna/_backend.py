"""The Optuna backend: samplers (tpe, random, cmaes, gp, grid, qmc, nsga2) and pruners over the neutral space.

Trials run through ``study.optimize`` so that Optuna's heartbeats, stale-trial handling and storage
concurrency apply unchanged when several workers share a study. Each epoch's validation score is
reported to the pruner through the session's report hook; without a pruner the scores are written once, at
the trial's end, together with its record (one transaction instead of one per value).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from automl._logs import optuna_verbosity
from automl.backends._base import Backend
from automl.backends.optuna._multi import MedianRule, objective_values
from automl.backends.optuna._space import suggest
from automl.exceptions import Argument, MissingDependency, TrialFailed, UserError
from automl.outcomes import FailureKind
from automl.store import TrialState, retry_trial, write_trial_results

if TYPE_CHECKING:
    import optuna

    from automl.engine import Session
    from automl.space import SearchSpace

__all__ = ["OptunaBackend"]

_MAX_GRID = 10_000
#: a resumed sampler's seed is moved by this many per trial already in the study (a prime, as the workers')
_RESUME_SEED_STEP = 104_729
#: a trial stopped by Ctrl-C or the supervisor: it says nothing about its config
_INTERRUPTED = "interrupted: the search was stopped mid-trial"


class OptunaBackend(Backend):
    name = "optuna"  # algorithms, pruners and options: automl.backends._registry

    def sampler(self, n_trials: int | None, *, history: int = 0) -> optuna.samplers.BaseSampler:
        """The sampler of :attr:`algorithm`, seeded. Grid trials are enqueued, so a random sampler serves.

        ``history``: trials the study holds already (a resume). The seed moves with it: seeded alike, a
        resumed random search would propose the configs it started with again, each a repeat
        (:mod:`automl.engine._repeats`) that teaches nothing.
        """
        import optuna

        # within NumPy's seeds (below 2**32): a study of some 41,000 trials would pass them
        seed = self.seed if not history else (self.seed + _RESUME_SEED_STEP * history) % 2**32
        startup = self.options.get(
            "n_startup_trials", 10 if n_trials is None else min(10, max(3, n_trials // 4))
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            if self.algorithm == "tpe":
                # multivariate + group model the joint conditional space; constant_liar spreads workers.
                return optuna.samplers.TPESampler(
                    seed=seed, n_startup_trials=startup, multivariate=True, group=True, constant_liar=True
                )
            if self.algorithm == "cmaes":
                return optuna.samplers.CmaEsSampler(
                    seed=seed, n_startup_trials=startup, warn_independent_sampling=False
                )
            if self.algorithm == "nsga2":
                size = self.option("population_size")
                return optuna.samplers.NSGAIISampler(seed=seed, population_size=size)
            if self.algorithm == "qmc":
                return optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)
            if self.algorithm == "gp":
                if importlib.util.find_spec("torch") is None:
                    raise MissingDependency(
                        "the gp algorithm needs PyTorch: install it with `pip install automl[gp]`, "
                        "or choose {algorithm}",
                        algorithm=Argument("algorithm", "tpe"),
                    )
                return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
        return optuna.samplers.RandomSampler(seed=seed)

    def make_pruner(self, max_epochs: int, *, folds: int = 0) -> optuna.pruners.BasePruner:
        """The pruner of :attr:`pruner`. Its steps are epochs, or with ``folds`` the cross-validation's
        folds (a running mean after each): the resource is then the folds, and the first fold's mean is
        already a trained model's score, so the median rule needs no warm-up steps."""
        import optuna

        if self.pruner == "median":
            return optuna.pruners.MedianPruner(
                n_startup_trials=self.option("pruner_startup_trials"),
                n_warmup_steps=0 if folds else self.option("n_warmup_steps"),
            )
        if self.pruner == "none":
            return optuna.pruners.NopPruner()
        rungs = {
            "min_resource": self.option("min_resource"),
            "reduction_factor": self.option("reduction_factor"),
        }
        if self.pruner == "successive_halving":
            return optuna.pruners.SuccessiveHalvingPruner(**rungs)
        if folds:
            rungs = {"min_resource": 1, "reduction_factor": min(rungs["reduction_factor"], folds)}
            max_epochs = folds
        return optuna.pruners.HyperbandPruner(max_resource=max(max_epochs, rungs["min_resource"]), **rungs)

    def objectives_refusal(self, objectives: Sequence[str]) -> str | None:
        if not objectives:
            return None
        if self.algorithm == "cmaes":
            return "CMA-ES searches one objective: use the tpe algorithm (or random, gp, qmc, grid)"
        if self.pruner in ("successive_halving", "hyperband"):
            return (
                f"a multi-objective search prunes by the median rule only (Optuna's {self.pruner} pruner "
                "reads one objective): use the median pruner, or none"
            )
        return None

    def prepare_study(self, study: optuna.Study, space: SearchSpace) -> None:
        """Enqueue every config of a grid, once, before any worker searches (concurrent enqueues race)."""
        if self.algorithm != "grid":
            return
        problem = space.grid_problem()
        if problem:
            raise UserError(f"{space.source}: {problem}")
        size = space.grid_size()
        if size > _MAX_GRID:
            raise UserError(
                "{source}: the grid has {size} configs (more than {most}); "
                "coarsen it with larger `step:` values or fewer choices, or use {algorithm}",
                source=space.source,
                size=size,
                most=_MAX_GRID,
                algorithm=Argument("algorithm", "tpe"),
            )
        fixed = space.fixed
        for config in space.grid():
            params = {k: v for k, v in config.items() if k not in fixed}
            study.enqueue_trial(params, skip_if_exists=True)

    def warm_start_problem(self) -> str | None:
        if self.algorithm == "grid":
            return "grid search tries every config of the grid already"
        return None

    def enqueue(self, study: optuna.Study, space: SearchSpace, configs: list[dict[str, Any]]) -> None:
        """Enqueue ``configs`` as the study's first trials: ``suggest`` then returns their values."""
        for params in configs:
            study.enqueue_trial(params, skip_if_exists=True)

    def search(self, session: Session) -> None:
        import optuna

        study = session.study
        max_epochs = int(session.space.fixed.get("epochs", 0) or 0) or 100
        study.sampler = self.sampler(session.trial_budget, history=len(study.get_trials(deepcopy=False)))
        study.pruner = self.make_pruner(max_epochs, folds=session.info.cv)
        if self.algorithm == "grid":
            # The grid was enqueued when the study was opened (prepare_study).
            waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
            if not waiting:
                return  # every config of the grid was tried (by this process, another, or a past run)

        # A pruner is fed through trial.report, Optuna's only public way, which writes each score to the
        # storage (optuna-dashboard then draws running trials). Without one nothing reads a running trial's
        # scores (Optuna's pruners and samplers read those of finished trials), so they are written once,
        # with the trial's record.
        pruning = self.pruner != "none"
        objectives = tuple(session.info.objectives)
        median = (
            MedianRule(
                maximize=session.maximize,
                startup_trials=self.option("pruner_startup_trials"),
                warmup_steps=0 if session.info.cv else self.option("n_warmup_steps"),
            )
            if objectives and pruning
            else None
        )
        if objectives:
            study.pruner = optuna.pruners.NopPruner()  # automl.backends.optuna._multi prunes instead

        def objective(trial: optuna.Trial) -> float | list[float]:
            try:
                return run(trial)
            except KeyboardInterrupt:
                # A stop anywhere in the trial, in its training or in its bookkeeping before or after:
                # Optuna fails the trial as it re-raises; the reason keeps it out of the failure streak,
                # and its retry, waiting in the study, is what a resume continues (from its checkpoint).
                trial.set_user_attr("failure", _INTERRUPTED)
                trial.set_user_attr("failure_kind", FailureKind.INTERRUPTED.value)
                retry_trial(study, study._storage.get_trial(trial._trial_id))
                raise

        def run(trial: optuna.Trial) -> float | list[float]:
            # Written first: a RUNNING trial names its process, so a dead one's trial can be failed.
            write_trial_results(
                study._storage,
                trial._trial_id,
                intermediate={},
                user_attrs={"worker": session.worker, "device": session.device},
            )
            config, params = suggest(trial, session.space)
            reported: dict[int, float] = {}

            def report(epoch: int, score: float) -> bool:
                if objectives:  # Optuna prunes one objective only: the curve is kept here
                    reported[epoch] = score
                    return median is not None and median.prunes(study, epoch, reported)
                if not pruning:
                    reported[epoch] = score
                    return False
                trial.report(score, step=epoch)
                return trial.should_prune()

            # A retry (its process died, or a stop) goes on as the trial it retries: seed and checkpoint.
            retry_of = study._storage.get_trial_system_attrs(trial._trial_id).get("failed_trial")
            outcome = session.run_trial(
                config, number=trial.number, report=report, params=params, retry_of=retry_of
            )
            # One transaction for the per-epoch values and the record (the worker is already there).
            attrs = {k: v for k, v in outcome.record.user_attrs().items() if k not in ("worker", "device")}
            if outcome.state is TrialState.SKIPPED:
                # Over a limit, not trained: PRUNED with a constraint value, what TPE and NSGA read as
                # infeasible (automl.engine._limits). After several in a row a config within it comes next.
                assert outcome.over_limit is not None
                trial.set_constraint(outcome.over_limit.name, outcome.over_limit.excess)
                write_trial_results(study._storage, trial._trial_id, intermediate={}, user_attrs=attrs)
                session.trial_finished(outcome.record)
                feasible = session.feasible_params(trial.number)
                if feasible is not None:
                    study.enqueue_trial(feasible)
                raise optuna.TrialPruned()
            if outcome.record.repeat_of is not None:
                # Trained nothing: it carries the curve of the trial it repeats, where a pruned trial's
                # score is read from (its last value), in the storage as well as in this record.
                reported = _curve(study, outcome.record.repeat_of)
            if objectives:  # no intermediate values in a multi-objective study (see its module)
                attrs["reported"] = {str(step): score for step, score in reported.items()}
            intermediate = {} if objectives else reported
            write_trial_results(study._storage, trial._trial_id, intermediate=intermediate, user_attrs=attrs)
            session.trial_finished(outcome.record)
            if outcome.state is TrialState.PRUNED:
                raise optuna.TrialPruned()
            if outcome.state is TrialState.FAIL:
                raise TrialFailed(outcome.record.failure or "failed")
            assert outcome.score is not None
            return objective_values(outcome.record, objectives) if objectives else outcome.score

        def stop_when_done(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if trial.user_attrs.get("failure_kind") == FailureKind.STORAGE.value:
                retry_trial(study, trial)  # its bookkeeping failed, not its config: tried once more
            waiting = self.algorithm == "grid" and not study.get_trials(
                deepcopy=False, states=(optuna.trial.TrialState.WAITING,)
            )
            if session.should_stop() or waiting:
                study.stop()

        if session.should_stop():
            return
        # automl logs each failed trial with its reason; Optuna's warning and traceback would repeat it.
        with optuna_verbosity(optuna.logging.ERROR), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            study.optimize(
                objective,
                timeout=session.time_left(),
                catch=(TrialFailed,),
                callbacks=[stop_when_done],
                gc_after_trial=False,
            )


def _curve(study: optuna.Study, number: int) -> dict[int, float]:
    """The per-epoch scores trial ``number`` reported: its intermediate values, or in a multi-objective
    study the curve it keeps itself."""
    storage = study._storage
    trial = storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study._study_id, number))
    kept = trial.user_attrs.get("reported") or {}
    return dict(trial.intermediate_values) or {int(step): score for step, score in kept.items()}
