"""The KerasTuner backend: random, bayesian (Gaussian process), hyperband and grid over the neutral space.

KerasTuner proposes configs; automl trains and records them, as for Optuna (see automl/engine/_protocol.py):

* The space is declared once as ``hp.*`` calls (:mod:`._space`) and handed to the oracle
  (built in :mod:`._oracle`).
  KerasTuner's own loop (``BaseTuner.search``) asks the oracle for trials and calls our tuner's
  ``run_trial``, which turns a trial's values into a config of active parameters and trains it with
  ``session.run_trial``: the one training path of every backend.
* Each KerasTuner trial is created in ``session.study`` before it trains (``session.reserve_trial``: the
  storage assigns its number, and so its seed, under a lock, so processes sharing a study never collide)
  and completed there when it ends, with our params, distributions, user attributes, per-epoch
  validation scores and ``keras_tuner_trial_id``.
* Budgets are automl's: ``session.should_stop()`` before each trial. KerasTuner's own limits are off
  (no ``max_trials``, Hyperband iterates until stopped, no consecutive-failure limit: the session counts).
* Hyperband owns the epochs (``tuner/epochs``, ``tuner/initial_epoch``): a promoted trial reloads the
  weights of ``tuner/trial_id`` into a model built from the config and continues from there; it is a
  mirrored trial of its own. Only checkpoints Hyperband can still promote are kept
  (:mod:`._checkpoints`), pruned after every trial.
* Resume: the KerasTuner project in ``runs/<name>/keras_tuner/`` is reloaded; its JSON files and the
  checkpoints are written whole or not at all, and a trial already mirrored (Ctrl-C between the mirror and
  KerasTuner's own bookkeeping) is replayed from the store, not trained or mirrored again.
* Quiet: KerasTuner's display is off and whatever it prints goes to automl's log.
* Worker processes: KerasTuner's own chief/worker mode. A chief process (:mod:`._chief`) holds the oracle
  and serves proposals over gRPC; each worker's tuner asks it for trials (``KERASTUNER_TUNER_ID``,
  ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``), trains and records them as above. The chief
  writes the project's files and prunes checkpoints; workers write only checkpoints. A worker beats for
  its running trial in the store (:mod:`._heartbeat`), so a trial whose machine vanished falls silent and
  the chief ends it.

keras_tuner is imported here, in :mod:`._oracle` and in :mod:`._chief`, each after :mod:`automl._keras`.

Over 400 lines for a reason: the tuner KerasTuner's loop drives and the backend that drives it are one
concept, held together by the rules above; the space, oracle, queue, checkpoints and chief are apart.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from automl import _keras  # first: it sets the Keras backend before keras_tuner imports Keras

import keras_tuner  # isort: skip
import optuna  # isort: skip

from automl.backends._base import Backend
from automl.backends._distributions import distribution
from automl.backends.keras_tuner import _checkpoints as checkpoints
from automl.backends.keras_tuner._heartbeat import TrialHeartbeat
from automl.backends.keras_tuner._oracle import build_oracle, write_json
from automl.backends.keras_tuner._space import config_from_values
from automl.exceptions import Argument, FatalError, UserError
from automl.outcomes import FailureKind
from automl.store import TrialRecord, TrialState

if TYPE_CHECKING:
    from automl.engine import ReservedTrial, Session

__all__ = ["KerasTunerBackend"]

log = logging.getLogger("automl.keras_tuner")


def _searched(p: Any) -> Any:
    """The Optuna distribution of a searched (never fixed) parameter."""
    found = distribution(p)
    assert found is not None, p
    return found


class _Context(NamedTuple):
    """What a KerasTuner project is built from: a search session's study, or a chief's."""

    space: Any
    study: Any
    info: Any
    run_dir: Path | None
    maximize: bool


def _role() -> str:
    """``alone`` (one process searches), or this process's part in KerasTuner's chief/worker mode."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "alone"
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


#: a worker told to wait (Hyperband's next round needs trials still running elsewhere) asks again after this.
_IDLE_WAIT_SECONDS = 0.5
#: how long a worker waits for the chief to answer before it gives up.
_CHIEF_TIMEOUT_SECONDS = 30


class _Stopped(Exception):
    """Raised before a new trial when the session says stop; ends KerasTuner's loop cleanly."""


class _Mirrored(NamedTuple):
    number: int
    state: TrialState
    value: float | None
    failure: str | None


class _LogWriter(io.TextIOBase):
    """A stdout stand-in that sends KerasTuner's prints to automl's log instead of the console."""

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():  # stray prints (a condition's value on every trial): debug level
                log.debug("keras_tuner: %s", line.strip())
        return len(text)


class _Tuner(keras_tuner.engine.base_tuner.BaseTuner):
    """KerasTuner's worker side, reduced to hooks into :class:`_Search` (which trains and records)."""

    def __init__(self, search: _Search, **kwargs: Any) -> None:
        self.automl = search
        super().__init__(**kwargs)

    def pre_create_trial(self) -> None:
        if self.automl.session.should_stop():
            raise _Stopped

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        try:
            return self.automl.run(trial)
        except keras_tuner.errors.FailedTrialError:
            raise
        except Exception as exc:
            # KerasTuner turns any exception into an invalid trial and goes on; a UserError or a broken
            # store must stop the search instead. Its FatalError passes through; search() re-raises ours.
            self.automl.error = exc
            raise keras_tuner.errors.FatalError(str(exc)) from exc

    def on_trial_end(self, trial: Any) -> None:
        super().on_trial_end(trial)
        self.automl.prune()

    def save(self) -> None:
        if self.automl.role == "worker":
            return  # the chief owns the project's files
        self.oracle.save()
        write_json(self._get_tuner_fname(), self.get_state())

    def reload(self) -> None:
        if self.automl.role != "worker":  # a worker's oracle is the chief's, reached over gRPC
            super().reload()


class _Search:
    """One KerasTuner search of one session: builds the oracle and tuner, trains, mirrors, prunes."""

    def __init__(self, backend: KerasTunerBackend, context: _Context, session: Session | None = None) -> None:
        self.backend = backend
        self.context = context
        self._session = session
        self.role = _role()
        self.space = context.space
        self.study = context.study
        self.error: Exception | None = None
        self.hyperband = backend.algorithm == "hyperband"
        self.objective = f"val_{context.info.metric}"
        self.max_epochs = self._max_epochs()
        directory = self._directory()
        info = context.info
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{info.dataset}-{info.space}-{backend.algorithm}")
        self.project_dir = directory / name
        self.project = self._project_key()
        # KerasTuner numbers trials per project ("00", "01", …): only this project's trials are its own.
        # Trials stored before projects were recorded have no key and belong to the run's one project.
        self.mirrored: dict[str, _Mirrored] = {}
        for t in self.study.get_trials(deepcopy=False):
            kt_id = t.user_attrs.get("keras_tuner_trial_id")
            if kt_id is not None and t.user_attrs.get("keras_tuner_project", self.project) == self.project:
                record = TrialRecord.from_frozen(t)
                self.mirrored[str(kt_id)] = _Mirrored(t.number, record.state, t.value, record.failure)
        exists = (self.project_dir / "oracle.json").exists()
        if self.mirrored and not exists and self.role != "worker":
            raise UserError(
                "the KerasTuner project {project} of this run is missing, so its search cannot continue; "
                "restore it, or start afresh with {overwrite} or another {name}",
                project=self.project_dir,
                overwrite=Argument("overwrite"),
                name=Argument("name"),
            )
        with contextlib.redirect_stdout(_LogWriter()):
            self.tuner = _Tuner(
                self,
                oracle=build_oracle(
                    backend, self.space, self.study, self.objective, context.maximize, self.max_epochs
                ),
                directory=str(directory),
                project_name=name,
                # The store decides: a project without mirrored trials (interrupted in its first trial)
                # starts afresh, which replays the same seeded proposals. A worker never touches it.
                overwrite=not self.mirrored and self.role != "worker",
            )
        if self.role == "worker":
            self._wait_when_idle(self.tuner.oracle)
            # KerasTuner's client waits an hour for an absent chief; ours is started with the workers.
            from keras_tuner.src.distribute import oracle_client

            oracle_client.TIMEOUT = _CHIEF_TIMEOUT_SECONDS
        else:
            self.tuner.oracle.verbose = 0  # no "Search: Running Trial #…" tables

    @property
    def session(self) -> Session:
        assert self._session is not None, "a chief trains nothing"
        return self._session

    @staticmethod
    def _wait_when_idle(client: Any) -> None:
        """KerasTuner's loop asks again at once when the chief says wait; pace it instead of spinning."""
        ask = client.create_trial

        def create_trial(tuner_id: str) -> Any:
            trial = ask(tuner_id)
            if trial.status == keras_tuner.engine.trial.TrialStatus.IDLE:
                time.sleep(_IDLE_WAIT_SECONDS)
            return trial

        client.create_trial = create_trial

    def _project_key(self) -> str:
        """The project folder as recorded per trial: relative to the run directory (which may move)."""
        run_dir = self.context.run_dir
        if run_dir is None and self.role == "worker" and "directory" not in self.backend.options:
            # A worker on another machine without the run directory: its chief's key, which the chief
            # matches when it ends the trial of a worker that died.
            return f"keras_tuner/{self.project_dir.name}"
        if run_dir is not None:
            try:
                return self.project_dir.resolve().relative_to(Path(run_dir).resolve()).as_posix()
            except ValueError:
                pass
        return self.project_dir.resolve().as_posix()

    def _max_epochs(self) -> int:
        """The space's fixed ``epochs`` (Hyperband's ``max_epochs``); training's default 10 if it has none."""
        fixed = self.space.fixed.get("epochs")
        if fixed is not None:
            return int(fixed)
        if "epochs" in self.space and self.hyperband:
            raise UserError(
                f"{self.space.source}: under hyperband the algorithm owns the epoch budget: make `epochs` "
                "a fixed value (the most epochs one model may train), e.g. `epochs: {type: fixed, value: 27}`"
            )
        return 10

    def _directory(self) -> Path:
        given = self.backend.options.get("directory")
        if given is not None:
            return Path(given)
        if self.context.run_dir is not None:
            return Path(self.context.run_dir) / "keras_tuner"
        log.warning("no run directory: the KerasTuner project lives in a temporary folder (no resume)")
        return Path(tempfile.mkdtemp(prefix="automl-keras-tuner-"))

    # ------------------------------------------------------------------ trials
    def run(self, trial: Any) -> dict[str, float]:
        """Train KerasTuner ``trial`` (or replay it if already mirrored); the metrics KerasTuner reads.

        Raises:
            keras_tuner.errors.FailedTrialError: the trial failed (recorded in the store with its reason).
        """
        kt_id = str(trial.trial_id)
        done = self.mirrored.get(kt_id)
        if done is None:
            done = self._train(kt_id, dict(trial.hyperparameters.values))
        if done.state is not TrialState.COMPLETE or done.value is None:
            raise keras_tuner.errors.FailedTrialError(done.failure or done.state.value)
        return {self.objective: done.value}

    def _train(self, kt_id: str, values: dict[str, Any]) -> _Mirrored:
        config, params = config_from_values(self.space, values)
        past = values.get("tuner/trial_id")
        model = self._continued_model(str(past), config) if past is not None else None
        # The KerasTuner id is recorded from the start: a chief ends the trial of a worker that died.
        reserved = self.session.reserve_trial(
            params,
            {name: _searched(self.space[name]) for name in params},
            {"keras_tuner_trial_id": kt_id, "keras_tuner_project": self.project},
        )
        # A worker beats for its trial in the store: if its machine vanishes, the chief sees the silence
        # and ends the trial. Alone, the process's own resume fails what it left running.
        heartbeat = TrialHeartbeat(self.study._storage, reserved.trial_id)
        if self.role == "worker":
            heartbeat.start()
        try:
            return self._train_reserved(reserved, kt_id, config, params, model, values)
        finally:
            heartbeat.stop()

    def _train_reserved(
        self,
        reserved: ReservedTrial,
        kt_id: str,
        config: dict[str, Any],
        params: dict[str, Any],
        model: Any,
        values: dict[str, Any],
    ) -> _Mirrored:
        """Train reserved trial ``kt_id`` (continuing ``model`` if Hyperband promoted it) and record it."""
        epochs = values.get("tuner/epochs")
        # A model to continue starts where its checkpoint ended; without one, training starts afresh.
        initial_epoch = int(values.get("tuner/initial_epoch", 0) or 0) if model is not None else 0
        past = values.get("tuner/trial_id")
        try:
            outcome = self.session.run_trial(
                config,
                number=reserved.number,
                params=params,
                model=model,
                initial_epoch=initial_epoch,
                epochs=None if epochs is None else int(epochs),
            )
            if (
                self.hyperband
                and outcome.state is TrialState.COMPLETE
                and outcome.result is not None
                and epochs is not None
                and int(epochs) < self.max_epochs  # a last-round trial is never promoted
            ):
                checkpoints.save_checkpoint(outcome.result.model, self.project_dir, kt_id)
        except BaseException as exc:
            # Ctrl-C, a user mistake or a full disk (its checkpoint) mid-trial: the trial ends FAIL with the
            # reason, as Optuna's own loop ends its trials, rather than RUNNING until a resume cleans it up.
            record = TrialRecord(number=reserved.number, state=TrialState.FAIL, score=None, params=params)
            record.failure = f"interrupted: {type(exc).__name__}"
            record.failure_kind = FailureKind.INTERRUPTED
            self.session.finish_trial(reserved, record)
            raise
        extra: dict[str, Any] = {"keras_tuner_trial_id": kt_id, "keras_tuner_project": self.project}
        if model is not None:
            extra["keras_tuner_continued"] = str(past)
            extra["initial_epoch"] = initial_epoch
            if str(past) in self.mirrored:
                extra["continued_trial"] = self.mirrored[str(past)].number
        record = outcome.record
        try:
            self.session.finish_trial(reserved, record, extra)
        except optuna.exceptions.UpdateFinishedTrialError:
            # The chief failed it while it trained: its heartbeat was silent past the grace period (a
            # paused machine, a storage outage). The store's verdict stands and this result is dropped.
            log.warning(
                "trial %d was ended as abandoned while it trained: its result is dropped", reserved.number
            )
            record = TrialRecord(number=reserved.number, state=TrialState.FAIL, score=None, params=params)
            record.failure = "stale_heartbeat: abandoned while it trained (its heartbeat went silent)"
            record.failure_kind = FailureKind.STALE_HEARTBEAT
        value = record.score if record.state is TrialState.COMPLETE else None
        done = _Mirrored(reserved.number, record.state, value, record.failure)
        self.mirrored[kt_id] = done
        self.session.trial_finished(record)
        return done

    def _continued_model(self, past: str, config: dict[str, Any]) -> Any:
        """A model built from ``config`` holding ``past``'s checkpoint, or None if it is gone."""
        path = checkpoints.checkpoint_path(self.project_dir, past)
        if not path.exists():
            log.warning("checkpoint of KerasTuner trial %s is missing: training from epoch 0", past)
            return None
        _keras.clear_session()  # train() keeps a given model's session: drop the previous trial's first
        model = self.session.build_model(config)
        # The checkpoint holds the optimizer's state too (Adam's moments, momentum): build the optimizer's
        # slots first so the continuation resumes it rather than restarting the optimizer.
        model.optimizer.build(model.trainable_variables)
        model.load_weights(str(path))
        return model

    def prune(self) -> None:
        """Delete the checkpoints Hyperband can no longer promote (a no-op for other algorithms).

        The process holding the oracle decides (alone, or the chief); it reads the oracle's brackets
        under the oracle's lock, which gRPC requests take too.
        """
        if not self.hyperband or self.role == "worker":
            return
        keep = keras_tuner.synchronized(lambda oracle: checkpoints.promotable(oracle))(self.tuner.oracle)
        running = {str(t.trial_id) for t in list(self.tuner.oracle.ongoing_trials.values())}
        freed = checkpoints.prune(self.project_dir, keep, running if self.role == "chief" else frozenset())
        if freed:
            log.debug(
                "keras_tuner: freed %d bytes of checkpoints; project now %d bytes",
                freed,
                checkpoints.project_bytes(self.project_dir),
            )

    def search(self) -> None:
        try:
            with contextlib.redirect_stdout(_LogWriter()), warnings.catch_warnings():
                # The bayesian oracle's Gaussian process warns about length-scale bounds on most fits.
                warnings.filterwarnings("ignore", module=r"sklearn\.gaussian_process")
                # keras-tuner 1.4 calls threading.currentThread() on every oracle call.
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"keras_tuner\.")
                self.prune()  # a resumed project may hold checkpoints made obsolete before the interruption
                self.tuner.search()
        except _Stopped:
            pass
        except keras_tuner.errors.FatalError:
            if self.error is not None:
                raise self.error from None
            raise
        except Exception as exc:
            if self.role != "worker" or type(exc).__module__.split(".")[0] != "grpc":
                raise
            # The chief stopped answering: it stops once the budget is spent (finished trials are in the
            # store already); otherwise it is gone, and this worker cannot go on without it.
            if not self.session.should_stop():
                address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
                raise FatalError(f"the KerasTuner chief at {address} does not answer") from None


class KerasTunerBackend(Backend):
    """KerasTuner's oracles (random, bayesian, hyperband, grid) driving automl's trials (see module doc).

    ``options``: ``directory`` (the KerasTuner project folder; default ``<run dir>/keras_tuner``);
    hyperband ``factor`` (3) and ``hyperband_iterations`` (unbounded); bayesian ``num_initial_points``,
    ``alpha``, ``beta``. Hyperband's ``max_epochs`` is the space's fixed ``epochs``.
    """

    name = "keras_tuner"  # algorithms and options: automl.backends._registry

    def warm_start_problem(self) -> str | None:
        if self.algorithm in ("hyperband", "grid"):
            return f"KerasTuner's {self.algorithm} oracle proposes in its own order and takes no queue"
        return None

    def enqueue(self, study: Any, space: Any, configs: list[dict[str, Any]]) -> None:
        """Nothing to do here: the oracle proposes the configs recorded in the study first (``_queue``)."""

    def objectives_refusal(self, objectives: Sequence[str]) -> str | None:
        if not objectives:
            return None
        return (
            "KerasTuner has no Pareto search (its multi-objective tuning adds the metrics up, which trades "
            "accuracy for size at a rate nobody chose): use the optuna backend for this objective"
        )

    def cv_refusal(self) -> str | None:
        if self.algorithm == "hyperband":
            return (
                "KerasTuner's hyperband trains one model on across rounds, cross-validation K fresh ones "
                "per trial: use `--algorithm random` or `bayesian`, or the optuna backend"
            )
        return None

    def search(self, session: Session) -> None:
        if session.should_stop():
            return
        context = _Context(session.space, session.study, session.info, session.run_dir, session.maximize)
        _Search(self, context, session).search()
