"""Storage calls that outlive a database restart, a failover or a dropped connection.

Connections are checked before use (``pool_pre_ping``), which heals an idle pool but not a call in
flight: the call fails, and a session whose connection died mid-transaction refuses further work
(``PendingRollbackError``). :class:`ResilientStorage` retries every storage call that failed for a lost
connection, with backoff (0.5 s doubling to 8 s), for a grace period (``AUTOML_STORAGE_GRACE``, default 60 s),
each time on a fresh session and pool. Past the grace period it raises :class:`StorageUnavailable`, one
line naming the storage with its password masked; after that the process is on its way out, so later calls
get one try each, not another grace period.

A lost connection is told by its cause (``__cause__``/``__context__``: SQLAlchemy's
``OperationalError``, ``InterfaceError``, ``DisconnectionError``, ``PendingRollbackError``, a pool timeout,
or any DBAPI error the dialect marked as a disconnect), never by Optuna's message, which is the same for
every SQLAlchemy error. SQLite is a local file: its errors are not retried (it waits for its lock itself).

Which calls are repeated as they are: reads, and writes that set a value (attributes, parameters,
intermediate values, heartbeats: writing the same value twice is writing it once). Those that are not
idempotent read back what the failed attempt may have committed before repeating:

* creating a trial writes a token among its system attributes; a retry first looks for the token, so an
  attempt that committed before its connection dropped is returned, not duplicated;
* finishing a trial (``set_trial_state_values`` to a finished state): a retry that finds the trial already
  in that state with those values has nothing left to do;
* claiming a waiting trial (WAITING to RUNNING): a retry that finds it RUNNING cannot tell its own claim
  from another process's, so it reports the claim lost (Optuna moves on to the next trial) and records one
  heartbeat for it: a trial nobody holds then goes stale and is failed and retried by the heartbeat check,
  while the process that does hold it keeps it alive;
* creating a study: a retry that finds the name taken returns that study; deleting one: a retry that finds
  it gone is done.

A SQLite file on a full disk raises :class:`~automl.exceptions.DiskFull` naming its folder.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from automl import interrupts
from automl._diskspace import disk_full, is_disk_full
from automl._durations import duration_from_env
from automl.exceptions import StorageUnavailable, Unavailable

__all__ = [
    "GRACE_VARIABLE",
    "STORAGE_GRACE_SECONDS",
    "ResilientStorage",
    "connection_lost",
    "patiently",
    "storage_grace",
]

log = logging.getLogger("automl.storage")

#: how long storage calls are retried for a lost connection before the process gives up.
STORAGE_GRACE_SECONDS = 60.0
GRACE_VARIABLE = "AUTOML_STORAGE_GRACE"
#: the system attribute that identifies a trial's creation, so a retried one is never created twice.
CREATE_TOKEN = "automl:create_token"
_FIRST_DELAY = 0.5
_LONGEST_DELAY = 8.0

T = TypeVar("T")


def storage_grace() -> float:
    """Seconds a storage call is retried for a lost connection: ``AUTOML_STORAGE_GRACE``, else 60."""
    return duration_from_env(GRACE_VARIABLE, STORAGE_GRACE_SECONDS)


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a connection to the database server that was lost or refused."""
    import sqlalchemy.exc as sa

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Unavailable):
            return False  # already given up on, further down
        if isinstance(seen, sa.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, (sa.DisconnectionError, sa.PendingRollbackError, sa.TimeoutError)):
            return True
        if isinstance(seen, (sa.OperationalError, sa.InterfaceError)):
            # SQLite's are about its file (locked, full, corrupt), not a connection.
            return type(seen.orig).__module__.split(".")[0] != "sqlite3"
        seen = seen.__cause__ or seen.__context__
    return False


def patiently(
    call: Callable[[], T],
    *,
    label: str,
    grace: float,
    again: Callable[[], T | None] | None = None,
    reset: Callable[[], None] | None = None,
) -> T:
    """``call()``, repeated with backoff while the connection to storage ``label`` is lost, for up to
    ``grace`` seconds; then :class:`StorageUnavailable`. Any other error is raised at once.

    ``again``, if given, runs before each repeat and returns the call's result when the failed attempt
    turns out to have committed (else None); ``reset`` runs after each failure.
    """
    started = time.monotonic()
    delay = _FIRST_DELAY
    failed = False
    while True:
        try:
            if failed and again is not None:
                done = again()
                if done is not None:
                    return done
            result = call()
        except Exception as exc:
            if not connection_lost(exc):
                raise
            waited = time.monotonic() - started
            if waited >= grace:
                raise StorageUnavailable(
                    f"storage {label} unreachable for {waited:.0f} s ({_first_line(exc)}); the trials it "
                    f"holds are safe there (set {GRACE_VARIABLE} to wait longer)"
                ) from None
            if not failed:
                log.warning(
                    "storage %s unreachable (%s): retrying for up to %.0f s", label, _first_line(exc), grace
                )
            failed = True
            if reset is not None:
                reset()
            _sleep(min(delay, grace - waited))
            delay = min(2 * delay, _LONGEST_DELAY)
            continue
        if failed:
            log.warning("storage %s reachable again after %.1f s", label, time.monotonic() - started)
        return result


def _sleep(seconds: float) -> None:
    """Wait; in the main thread, answer Ctrl-C or a signal within half a second."""
    main = threading.current_thread() is threading.main_thread()
    ends = time.monotonic() + seconds
    while True:
        if main:
            interrupts.check()
        left = ends - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(0.5, left))


class ResilientStorage(RDBStorage):
    """Optuna's RDB storage whose calls survive a lost connection (see the module doc).

    ``label`` names the storage in messages (its URL with the password masked).
    """

    def __init__(self, url: str, *, label: str, **kwargs: Any) -> None:
        self.label = label
        self.grace = storage_grace()
        self._given_up: str | None = None
        self._nesting = threading.local()
        # SQLite's commit is local: it either happened or not, and a lost connection is never retried.
        self._tokens = not url.startswith("sqlite")
        self._folder = Path(url[len("sqlite:///") :]).parent if url.startswith("sqlite:///") else None
        super().__init__(url, **kwargs)

    # ------------------------------------------------------------------ the retry
    def retried(self, call: Callable[..., T], *args: Any, again: Callable[[], T | None] | None = None) -> T:
        """``call(*args)``, repeated while the connection is lost, for up to the grace period.

        ``again``, if given, runs before each repeat and returns the call's result when the failed attempt
        turns out to have committed (else None). Only the outermost call in a thread retries: a storage
        method that calls another is repeated whole.
        """
        depth = getattr(self._nesting, "depth", 0)
        if depth:
            return call(*args)
        self._nesting.depth = 1
        try:
            return self._retry(call, args, again)
        finally:
            self._nesting.depth = 0

    def _retry(
        self, call: Callable[..., T], args: tuple[Any, ...], again: Callable[[], T | None] | None
    ) -> T:
        try:
            return patiently(
                lambda: call(*args), label=self.label, grace=0.0 if self._given_up else self.grace,
                again=again, reset=self._reset,
            )  # fmt: skip
        except StorageUnavailable as exc:
            if self._given_up is not None:  # said once, with the time waited then
                raise StorageUnavailable(self._given_up) from None
            self._given_up = str(exc)
            raise
        except Exception as exc:
            if self._folder is not None and is_disk_full(exc):  # a SQLite file on a full disk
                raise disk_full(self._folder, exc) from None
            raise

    def _reset(self) -> None:
        """A fresh session and pool: the failed session may refuse work until rolled back, and the pool
        holds connections the server closed."""
        with contextlib.suppress(Exception):  # its connection is gone: closing it can fail too
            self.scoped_session.remove()
        self.engine.dispose()

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["_nesting"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._nesting = threading.local()

    # ------------------------------------------------------------------ the writes read back
    def create_new_study(self, directions: Any, study_name: str | None = None) -> int:
        def committed() -> int | None:
            if study_name is None:
                return None
            try:
                return RDBStorage.get_study_id_from_name(self, study_name)
            except KeyError:
                return None

        return self.retried(super().create_new_study, directions, study_name, again=committed)

    def delete_study(self, study_id: int) -> None:
        def committed() -> bool | None:
            try:
                RDBStorage.get_study_name_from_id(self, study_id)
            except KeyError:
                return True
            return None

        self.retried(super().delete_study, study_id, again=committed)

    def _create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> FrozenTrial:
        if not self._tokens:
            return self.retried(super()._create_new_trial, study_id, template_trial)
        token = uuid.uuid4().hex
        template = _with_token(template_trial, token)

        def committed() -> FrozenTrial | None:
            trial_id = self._trial_with_token(study_id, token)
            return None if trial_id is None else RDBStorage.get_trial(self, trial_id)

        return self.retried(super()._create_new_trial, study_id, template, again=committed)

    def _trial_with_token(self, study_id: int, token: str) -> int | None:
        import sqlalchemy as sa
        from optuna.storages._rdb import models

        attrs = models.TrialSystemAttributeModel.__table__
        trials = models.TrialModel.__table__
        query = (
            sa.select(attrs.c.trial_id)
            .join(trials, trials.c.trial_id == attrs.c.trial_id)
            .where(trials.c.study_id == study_id, attrs.c.key == CREATE_TOKEN)
            .where(attrs.c.value_json == json.dumps(token))
        )
        with self.engine.connect() as connection:
            return connection.execute(query).scalar_one_or_none()

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        def committed() -> bool | None:
            trial = RDBStorage.get_trial(self, trial_id)
            if state == TrialState.RUNNING and trial.state == TrialState.RUNNING:
                # Ours or another process's claim: leave it to the heartbeat check (see the module doc).
                if self.heartbeat_interval:
                    RDBStorage.record_heartbeat(self, trial_id)
                return False
            if (
                state.is_finished()
                and trial.state == state
                and (values is None or trial.values == list(values))
            ):
                return True
            return None

        return self.retried(super().set_trial_state_values, trial_id, state, values, again=committed)


def _with_token(template: FrozenTrial | None, token: str) -> FrozenTrial:
    """``template`` (or what Optuna creates without one: a bare RUNNING trial) carrying ``token``."""
    from datetime import datetime

    if template is None:
        template = FrozenTrial(
            number=-1, state=TrialState.RUNNING, value=None, values=None, datetime_start=datetime.now(),
            datetime_complete=None, params={}, distributions={}, user_attrs={}, system_attrs={},
            intermediate_values={}, trial_id=-1,
        )  # fmt: skip
    else:
        template = copy.copy(template)
    template.system_attrs = {**template.system_attrs, CREATE_TOKEN: token}
    return template


def _first_line(exc: BaseException) -> str:
    """What the driver said (``connection refused``), not Optuna's wrapper: the first line of the deepest
    cause with a message."""
    chain = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__ or getattr(seen, "orig", None)  # SQLAlchemy's driver error
    for cause in reversed(chain):
        text = str(cause).strip()
        if text and text != "()":
            return text.splitlines()[0]
    return type(chain[-1]).__name__


def _retrying(name: str) -> Callable[..., Any]:
    method = getattr(RDBStorage, name)

    def call(self: ResilientStorage, *args: Any, **kwargs: Any) -> Any:
        return self.retried(lambda: method(self, *args, **kwargs))

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


# Reads, and writes that set a value (repeating one writes the same value): retried as they are.
_REPEATABLE = (
    "set_study_user_attr", "set_study_system_attr", "get_study_id_from_name", "get_study_name_from_id",
    "get_study_directions", "get_study_user_attrs", "get_study_system_attrs", "get_trial_user_attrs",
    "get_trial_system_attrs", "get_all_studies", "_set_trial_param", "get_trial_param",
    "set_trial_intermediate_value", "set_trial_user_attr", "set_trial_system_attr",
    "get_trial_id_from_study_id_trial_number", "get_trial_number_from_id", "get_trial", "get_all_trials",
    "get_best_trial", "_get_best_trial_id", "get_n_trials", "_get_trials", "record_heartbeat",
    "_get_stale_trial_ids",
)  # fmt: skip
for _name in _REPEATABLE:
    if hasattr(RDBStorage, _name):
        setattr(ResilientStorage, _name, _retrying(_name))
