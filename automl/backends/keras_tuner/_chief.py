"""KerasTuner's chief process: the oracle of one study, served over gRPC to the worker processes.

KerasTuner proposes from its oracle, not from the study, so worker processes share a search through
KerasTuner's own chief/worker mode: the supervisor starts this process beside the workers and gives every
process the same ``KERASTUNER_ORACLE_IP``/``KERASTUNER_ORACLE_PORT`` and its own ``KERASTUNER_TUNER_ID``
(:func:`environment`). Workers train and record trials in the store as in a single process
(:mod:`._backend`); the chief writes the project's files and deletes checkpoints Hyperband can no longer
promote.

KerasTuner's own chief (``oracle_chief.start_server``) waits for every ongoing trial before it stops, so
a worker that died mid-trial holds it forever. This one serves the same gRPC service with a loop of its
own:

* a trial whose worker died is recorded FAIL in the store by whoever saw the death (the supervisor of
  that worker, marked ``abandoned``); the chief then ends it in the oracle as failed, so Hyperband's
  rounds go on without it;
* a trial whose whole machine vanished (its supervisor and workers gone at once, so no one saw a death)
  falls silent: workers beat for their trials in the store (:mod:`._heartbeat`), and every few seconds
  the chief fails the trials silent past the storage's grace period, of kind ``stale_heartbeat`` and
  without the retry Optuna would enqueue (the oracle proposes, not the study), then ends them as above.
  Neither kind counts toward the failure streak: a lost process says nothing about the config;
* it stops when its supervisor asks (SIGINT or SIGTERM, once every worker has ended), and in any case
  shortly after the search's deadline.

Run as ``python -c "from automl.backends.keras_tuner._chief import main; main()"`` with the
:class:`automl.engine.WorkerSpec` in ``AUTOML_WORKER_SPEC``. This module imports keras_tuner only
inside :func:`serve`, so the supervisor reads :func:`environment` without TensorFlow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from automl.outcomes import FailureKind
from automl.store import fail_silent_trials, failure_kind_of

__all__ = ["end_abandoned_trials", "end_silent_trials", "environment", "main", "serve"]

log = logging.getLogger("automl.keras_tuner.chief")

#: the chief outlives the search's deadline by this much at most (workers stop at their first epoch end).
_LATE_SECONDS = 60.0
_POLL_SECONDS = 1.0
#: the trials' heartbeats are checked this often at most (and at least once per heartbeat interval).
_SILENCE_CHECK_SECONDS = 5.0
#: the kinds of failure that leave a trial ongoing in the oracle: no worker is left to end it there.
_ABANDONED = frozenset({FailureKind.WORKER_DIED, FailureKind.STALE_HEARTBEAT})


def environment(tuner_id: str, host: str, port: int) -> dict[str, str]:
    """What a process of KerasTuner's chief/worker mode is told: its id (``chief`` for the chief) and
    where the chief listens (the chief binds ``host``; workers connect to it)."""
    return {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": host,
        "KERASTUNER_ORACLE_PORT": str(port),
    }


def _open(spec: Any) -> Any:
    """The KerasTuner project of ``spec``'s study, with the oracle this process serves."""
    from pathlib import Path

    import optuna

    from automl._logs import optuna_verbosity
    from automl.backends import recorded_backend
    from automl.backends.keras_tuner._backend import KerasTunerBackend, _Context, _Search
    from automl.store import load_study_info, manifest_from_storage, open_storage

    # The workers' heartbeat interval and grace period: the chief fails the trials silent past it.
    storage = open_storage(
        spec.storage, heartbeat_interval=spec.heartbeat_interval, grace_period=spec.grace_period,
        patient=True,
    )  # fmt: skip
    manifest = manifest_from_storage(storage, spec.study)
    info = load_study_info(storage, spec.study)
    space = next(s for s in manifest.spaces if s.name == info.space).space()
    backend = recorded_backend(manifest.backend, manifest.seed)
    with optuna_verbosity(optuna.logging.WARNING):
        study = optuna.load_study(study_name=spec.study, storage=storage)
    run_dir = None if spec.run_dir is None else Path(spec.run_dir)
    assert isinstance(backend, KerasTunerBackend)
    return _Search(backend, _Context(space, study, info, run_dir, info.direction == "maximize"))


def end_silent_trials(search: Any) -> int:
    """Fail in the store the trials whose heartbeat went silent, then end every abandoned trial in the
    oracle; returns how many it ended there (see the module doc)."""
    for number in fail_silent_trials(search.study, "abandoned: its machine went silent"):
        log.warning("trial %d went silent (its machine is gone): recorded as failed", number)
    return end_abandoned_trials(search)


def end_abandoned_trials(search: Any) -> int:
    """End in the oracle, as failed, each ongoing trial the store shows abandoned: its worker died, or
    its heartbeat went silent (see the module doc)."""
    import keras_tuner
    import optuna

    oracle = search.tuner.oracle
    ongoing = {str(t.trial_id): t for t in list(oracle.ongoing_trials.values())}
    if not ongoing:
        return 0
    ended = 0
    for frozen in search.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.FAIL,)):
        attrs = frozen.user_attrs
        kt_id = str(attrs.get("keras_tuner_trial_id"))
        kind = failure_kind_of("fail", attrs)
        if kind in _ABANDONED and attrs.get("keras_tuner_project") == search.project and kt_id in ongoing:
            trial = ongoing.pop(kt_id)
            trial.status = keras_tuner.engine.trial.TrialStatus.FAILED
            trial.message = str(attrs.get("failure") or kind)
            oracle.end_trial(trial)
            ended += 1
            log.warning("trial %d (KerasTuner %s) ended as failed: %s", frozen.number, kt_id, trial.message)
    return ended


def serve(spec: Any, stop: threading.Event) -> int:
    """Serve the oracle of ``spec``'s study until ``stop`` is set or the deadline is long past."""
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos  # KerasTuner's gRPC service: no public path in keras-tuner 1.4
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    from automl.backends.keras_tuner._backend import _LogWriter
    from automl.engine import EXIT_USER_ERROR

    search = _open(spec)
    search.tuner.save()
    sys.stdout = _LogWriter()  # KerasTuner prints from the gRPC threads too
    host, port = os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    protos.get_service_grpc().add_OracleServicer_to_server(OracleServicer(search.tuner.oracle), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        print(
            f"error: the KerasTuner chief cannot listen on {host}:{port} (in use, or not this machine's "
            "address): choose another port",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_USER_ERROR
    server.start()
    log.info("KerasTuner chief of study %s listening on %s:%s", spec.study, host, port)
    interval = search.study._storage.get_heartbeat_interval()
    every = _SILENCE_CHECK_SECONDS if interval is None else min(_SILENCE_CHECK_SECONDS, float(interval))
    checked = time.monotonic()
    try:
        while not stop.wait(_POLL_SECONDS):
            if interval is not None and time.monotonic() - checked >= every:
                end_silent_trials(search)
                checked = time.monotonic()
            else:
                end_abandoned_trials(search)
            search.prune()
            if spec.deadline is not None and time.time() > spec.deadline + _LATE_SECONDS:
                log.warning("the search's deadline passed %.0f s ago: the chief stops", _LATE_SECONDS)
                break
    finally:
        server.stop(grace=2.0).wait()
        search.tuner.save()
    return 0


def main() -> None:
    from automl.engine import EXIT_USER_ERROR, SPEC_VARIABLE, WorkerSpec, follow_parent
    from automl.exceptions import Unavailable, UserError

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("optuna").setLevel(logging.WARNING)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    follow_parent()  # the chief never outlives its supervisor
    try:
        code = serve(WorkerSpec.from_json(os.environ[SPEC_VARIABLE]), stop)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        code = EXIT_USER_ERROR
    except Unavailable as exc:  # the storage past its grace period, or a full disk
        with contextlib.suppress(OSError):
            print(f"unavailable: {exc}", file=sys.stderr, flush=True)
        code = exc.exit_status
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)
