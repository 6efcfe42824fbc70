"""The Optuna backend: samplers (tpe, random, cmaes, gp, grid, qmc) and pruners over the neutral space.

Trials run through ``study.optimize`` so that Optuna's heartbeats, stale-trial handling and storage
concurrency apply unchanged when several workers share a study. Each epoch's validation score is
reported to the pruner through the session's report hook.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import TYPE_CHECKING

from automl.backends._base import Backend, Option
from automl.backends.optuna._space import suggest
from automl.exceptions import MissingDependency, TrialFailed, UserError
from automl.store import TrialState

if TYPE_CHECKING:
    import optuna

    from automl.engine import SearchSession

__all__ = ["OptunaBackend"]

_MAX_GRID = 10_000


class OptunaBackend(Backend):
    name = "optuna"
    algorithms = ("tpe", "random", "cmaes", "gp", "grid", "qmc")
    pruners = ("median", "successive_halving", "hyperband", "none")

    @classmethod
    def default_pruner(cls, algorithm: str) -> str:
        # A grid is an exhaustive plan: pruning would leave holes in it.
        return "none" if algorithm == "grid" else "median"

    def allowed_options(self) -> dict[str, Option]:
        options: dict[str, Option] = {}
        if self.algorithm in ("tpe", "cmaes", "gp"):
            options["n_startup_trials"] = Option(
                int,
                "random trials before the sampler's model takes over (default: trials / 4, 3 to 10)",
                0,
            )
        if self.pruner == "median":
            options["pruner_startup_trials"] = Option(
                int, "trials finished before any is pruned (default 5)", 0
            )
            options["n_warmup_steps"] = Option(
                int, "epochs every trial runs before it can be pruned (default 1)", 0
            )
        if self.pruner in ("successive_halving", "hyperband"):
            options["min_resource"] = Option(int, "epochs of the first rung (default 1)", 1)
            options["reduction_factor"] = Option(
                int, "1/factor of the trials go on at each rung (default 3)", 2
            )
        return options

    def sampler(self, n_trials: int | None) -> optuna.samplers.BaseSampler:
        """The sampler of :attr:`algorithm`, seeded. Grid trials are enqueued, so a random sampler serves."""
        import optuna

        seed = self.seed
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
            if self.algorithm == "qmc":
                return optuna.samplers.QMCSampler(seed=seed, scramble=True, warn_independent_sampling=False)
            if self.algorithm == "gp":
                if importlib.util.find_spec("torch") is None:
                    raise MissingDependency(
                        "the gp algorithm needs PyTorch: install it with `pip install automl[gp]`, "
                        "or choose --algorithm tpe"
                    )
                return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
        return optuna.samplers.RandomSampler(seed=seed)

    def make_pruner(self, max_epochs: int) -> optuna.pruners.BasePruner:
        import optuna

        options = self.options
        if self.pruner == "median":
            return optuna.pruners.MedianPruner(
                n_startup_trials=options.get("pruner_startup_trials", 5),
                n_warmup_steps=options.get("n_warmup_steps", 1),
            )
        rungs = {
            "min_resource": options.get("min_resource", 1),
            "reduction_factor": options.get("reduction_factor", 3),
        }
        if self.pruner == "successive_halving":
            return optuna.pruners.SuccessiveHalvingPruner(**rungs)
        if self.pruner == "hyperband":
            return optuna.pruners.HyperbandPruner(
                max_resource=max(max_epochs, rungs["min_resource"]), **rungs
            )
        return optuna.pruners.NopPruner()

    def _enqueue_grid(self, session: SearchSession) -> None:
        space = session.space
        problem = space.grid_problem()
        if problem:
            raise UserError(f"{space.source}: {problem}")
        size = space.grid_size()
        if size > _MAX_GRID:
            raise UserError(
                f"{space.source}: the grid has {size} configs (more than {_MAX_GRID}); "
                "coarsen it with larger `step:` values or fewer choices, or use --algorithm tpe"
            )
        fixed = space.fixed
        for config in space.grid():
            params = {k: v for k, v in config.items() if k not in fixed}
            session.study.enqueue_trial(params, skip_if_exists=True)

    def search(self, session: SearchSession) -> None:
        import optuna

        study = session.study
        max_epochs = int(session.space.fixed.get("epochs", 0) or 0) or 100
        study.sampler = self.sampler(session.budget.trials)
        study.pruner = self.make_pruner(max_epochs)
        if self.algorithm == "grid":
            self._enqueue_grid(session)

        def objective(trial: optuna.Trial) -> float:
            config, params = suggest(trial, session.space)

            def report(epoch: int, score: float) -> bool:
                trial.report(score, step=epoch)
                return trial.should_prune()

            outcome = session.run_trial(config, number=trial.number, report=report, params=params)
            for key, value in outcome.record.user_attrs().items():
                trial.set_user_attr(key, value)
            session.trial_finished(outcome.record)
            if outcome.state is TrialState.PRUNED:
                raise optuna.TrialPruned()
            if outcome.state is TrialState.FAIL:
                raise TrialFailed(outcome.record.failure or "failed")
            assert outcome.score is not None
            return outcome.score

        def stop_when_done(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            waiting = self.algorithm == "grid" and not study.get_trials(
                deepcopy=False, states=(optuna.trial.TrialState.WAITING,)
            )
            if session.should_stop() or waiting:
                study.stop()

        if session.should_stop():
            return
        # automl logs each failed trial with its reason; Optuna's warning and traceback would repeat it.
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            study.optimize(
                objective,
                timeout=session.time_left(),
                catch=(TrialFailed,),
                callbacks=[stop_when_done],
                gc_after_trial=False,
            )
