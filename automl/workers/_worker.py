"""A worker process: one device slot pulling trials from a shared study until the search's budget is spent.

Started by the supervisor (:mod:`automl.workers._supervisor`) as a Python process calling :func:`main`
with a JSON :class:`~automl.engine.WorkerSpec` in ``AUTOML_WORKER_SPEC`` (exit codes there). Everything else
the worker needs it reads from the storage: the run manifest (space, dataset source, backend) and the
study's facts. It imports TensorFlow and loads the dataset once, sets its slot up (threads, GPU memory,
precision), then searches through the same :func:`automl.engine.run_session` as a single-process search,
so a trial means the same thing here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from automl.engine import (
    EXIT_DISK_FULL,
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_LEFT,
    EXIT_STORAGE_UNAVAILABLE,
    EXIT_USER_ERROR,
    SPEC_VARIABLE,
    WorkerSpec,
    follow_parent,
    load_trainer,
)
from automl.workers._slots import Slot

__all__ = ["configure", "last_error", "main", "raise_for_exit", "run", "sampler_seed"]

#: primes that set the workers' and the machines' sampler seeds apart
_WORKER_SEED_STEP = 7919
_MACHINE_SEED_STEP = 1_000_003


def _dataset(spec: WorkerSpec, manifest: Any, name: str) -> Any:
    if spec.dataset_file is not None:
        from automl.datasets import open_shared

        return open_shared(spec.dataset_file)  # memory-mapped: the workers here share one copy
    from automl.store import reload_dataset

    return reload_dataset(manifest.dataset(name), manifest.seed)


def sampler_seed(seed: int, worker: int, machine: int = 0) -> int:
    """The seed of the sampler of worker number ``worker`` (replacements included) on ``machine`` (0: the
    machine that started the search, else the number :func:`automl.workers._join.joining_machine` gave).

    Seeded alike, parallel samplers propose the same configs, each a repeat that trains nothing and spends
    a trial of the budget (:mod:`automl.engine._repeats`); worker 1 of every machine would be seeded alike
    without ``machine``. A trial's own training seed still comes from its store-assigned number.
    """
    return (seed + _WORKER_SEED_STEP * worker + _MACHINE_SEED_STEP * machine) % 2**32  # NumPy's range


def configure(slot: Slot, keras_backend: str = "tensorflow") -> str:
    """Set this process up for ``slot`` (threads, GPU memory, precision) on the run's Keras backend;
    returns its device's name.

    The slot's environment (``CUDA_VISIBLE_DEVICES``, thread counts) was set when the process started.
    """
    from automl.keras_backend import resumed_keras_backend

    resumed_keras_backend(keras_backend, None)
    from automl import _keras

    return _keras.configure_process(
        threads=slot.threads,
        precision="mixed_float16" if slot.precision == "mixed_float16" else "float32",
        memory_limit_mb=slot.memory_limit_mb,
    )


def run(spec: WorkerSpec) -> int:
    """Search ``spec.study`` from this process; returns the exit code (see the module doc)."""
    from automl.backends import recorded_backend
    from automl.engine import open_study, run_session
    from automl.exceptions import FatalError, Unavailable, UserError
    from automl.store import load_study_info, manifest_from_storage, open_storage

    slot = Slot.from_dict(spec.slot)
    try:
        trainer = None if spec.trainer is None else load_trainer(spec.trainer)
        storage = open_storage(
            spec.storage, heartbeat_interval=spec.heartbeat_interval, grace_period=spec.grace_period,
            patient=True,
        )  # fmt: skip
        manifest = manifest_from_storage(storage, spec.study)
        # A stand-in trains nothing: the process needs no Keras set-up. Keras loads the run's backend.
        device = "cpu" if trainer is not None else configure(slot, manifest.keras_backend)
        info = load_study_info(storage, spec.study)
        space = next(s for s in manifest.spaces if s.name == info.space).space()
        dataset = _dataset(spec, manifest, info.dataset)
        if dataset.fingerprint != info.dataset_fingerprint:
            raise UserError(
                f"dataset {info.dataset!r} differs here from the one the search uses (fingerprint "
                f"{dataset.fingerprint}, expected {info.dataset_fingerprint}): give this "
                "machine the same data"
            )
        worker_number = int(spec.slot.get("worker", 0))
        backend = recorded_backend(manifest.backend, sampler_seed(manifest.seed, worker_number, spec.machine))
        study, info = open_study(
            storage, spec.study, space=space, dataset=dataset, metric=info.metric, direction=info.direction,
            backend=backend, seed=manifest.seed, resume=True, local=False, prepare=False,
        )  # fmt: skip
        left = None if spec.deadline is None else spec.deadline - time.time()
        if left is not None and left <= 0:
            return 0
        session = run_session(
            backend, study, info, space, dataset, spec.budget_left(left), seed=manifest.seed, trainer=trainer,
            run_dir=None if spec.run_dir is None else Path(spec.run_dir),
            checkpoint_dir=None if spec.checkpoint_dir is None else Path(spec.checkpoint_dir),
            device=f"{device} slot {slot.index}", max_trials_here=spec.recycle_after,
            since=None if spec.since is None else datetime.fromisoformat(spec.since),
        )  # fmt: skip
        logging.getLogger("automl.worker").info(
            "worker %s ends after %d trial(s)", slot.index, session.trials_here
        )
        if session.trials_here == 0 and not session.should_stop():
            return EXIT_NOTHING_LEFT
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_USER_ERROR
    except FatalError as exc:
        print(f"stopped: {exc}", file=sys.stderr, flush=True)
        return EXIT_FATAL
    except Unavailable as exc:
        with contextlib.suppress(OSError):  # its log may be on the disk that is full
            print(f"unavailable: {exc}", file=sys.stderr, flush=True)
        return exc.exit_status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def last_error(path: Path, prefix: str = "error: ") -> str | None:
    """The message a worker (or the chief) printed last with ``prefix``: its user error (``error: ``), its
    fatal stop (``stopped: ``), or what it found gone (``unavailable: ``), as :func:`run` prints them."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        if line.startswith(prefix):
            return line[len(prefix) :]
    return None


def raise_for_exit(code: int, log_file: Path, who: str) -> None:
    """Raise what exit status ``code`` of a worker (or the chief, ``who``) says about the whole search, with
    the message it printed in ``log_file``: a user's mistake, a failure streak, the storage or the disk gone
    (every worker would meet it: not a death). Returns for an ending the search outlives."""
    from automl.exceptions import DiskFull, FatalError, StorageUnavailable, UserError

    if code == EXIT_USER_ERROR:
        raise UserError(last_error(log_file) or f"{who} refused the search")
    if code == EXIT_FATAL:
        raise FatalError(last_error(log_file, "stopped: ") or "too many trials failed in a row")
    gone = {EXIT_STORAGE_UNAVAILABLE: StorageUnavailable, EXIT_DISK_FULL: DiskFull}.get(code)
    if gone is not None:
        raise gone(
            last_error(log_file, "unavailable: ")
            or f"{who} found the storage or the disk gone; see {log_file}"
        )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("optuna").setLevel(logging.WARNING)
    follow_parent()  # a worker never outlives its supervisor
    code = run(WorkerSpec.from_json(args[0] if args else os.environ[SPEC_VARIABLE]))
    with contextlib.suppress(OSError):  # a full disk under the log must not change the exit status
        sys.stdout.flush()
        sys.stderr.flush()
    # Everything is in the storage by now; a library thread left running (a trial's heartbeat after a
    # Ctrl-C) must not keep the worker alive.
    os._exit(code)


if __name__ == "__main__":
    main()
