"""Opening the Optuna storage a run keeps its studies in: the URL of a run's own SQLite file, a checked
URL for a server (PostgreSQL, MySQL) with its driver, and engine options that keep a shared study
responsive (heartbeats, pool settings). One-line errors for a bad URL, a missing driver or an unreachable
server. Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.exceptions import Argument, MissingDependency, UserError

if TYPE_CHECKING:
    import optuna

__all__ = ["GRACE_FACTOR", "HEARTBEAT_INTERVAL", "mask_password", "open_storage", "storage_url_for"]

_SCHEMES = ("sqlite", "postgresql", "mysql")


def storage_url_for(run_dir: Path, storage: str | None) -> str:
    """The storage URL of a run: ``sqlite:///<run_dir>/automl.db`` unless ``storage`` names another."""
    if storage in (None, "", "sqlite"):
        return f"sqlite:///{(Path(run_dir) / 'automl.db').resolve()}"
    return str(storage)


def mask_password(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to write in files and logs)."""
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


#: the module each SQLAlchemy driver imports, and how to install it: {driver: (module, install)}.
_DRIVERS = {
    "postgresql": ("psycopg2", "`pip install automl[postgres]`"),
    "postgresql+psycopg2": ("psycopg2", "`pip install automl[postgres]`"),
    "postgresql+psycopg": ("psycopg", "`pip install psycopg`"),
    "mysql": ("MySQLdb", "`pip install mysqlclient`, or `pip install pymysql` with a mysql+pymysql:// URL"),
    "mysql+mysqldb": ("MySQLdb", "`pip install mysqlclient`"),
    "mysql+pymysql": ("pymysql", "`pip install pymysql`"),
    "mysql+mysqlconnector": ("mysql.connector", "`pip install mysql-connector-python`"),
}
_DATABASES = {"postgresql": "PostgreSQL", "mysql": "MySQL"}


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _check_url(url: str) -> str:
    scheme = url.split(":", 1)[0].split("+", 1)[0] if "://" in url else ""
    if scheme not in _SCHEMES:
        raise UserError(
            "bad storage URL {url!r}: expected sqlite:///path/to/file.db, "
            "postgresql://user:password@host/db or mysql+pymysql://user:password@host/db; "
            "or omit {storage} for the run's SQLite file",
            url=mask_password(url),
            storage=Argument("storage"),
        )
    driver = url.split("://", 1)[0]
    if scheme == "mysql" and driver == "mysql" and not _importable("MySQLdb") and _importable("pymysql"):
        # SQLAlchemy reads bare mysql:// as mysqlclient; PyMySQL (pure Python) serves as well.
        driver, url = "mysql+pymysql", "mysql+pymysql://" + url.split("://", 1)[1]
    if driver in _DRIVERS:
        module, install = _DRIVERS[driver]
        if not _importable(module):
            raise MissingDependency(
                f"storage {mask_password(url)!r} needs the {_DATABASES[scheme]} driver {module}: "
                f"install it with {install}"
            )
    if driver == "postgresql":
        # SQLAlchemy 2.1 reads bare postgresql:// as psycopg 3; we ship psycopg2 in the extra.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


#: seconds between a running trial's heartbeats, and after which a silent trial counts as dead.
HEARTBEAT_INTERVAL = 60
GRACE_FACTOR = 4


def _engine_options(url: str) -> dict[str, Any]:
    """SQLAlchemy options: SQLite waits for its file lock; a server's pooled connections are checked
    before use, so one a database restart closed is replaced instead of failing the next call."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    return {"pool_pre_ping": True}


def open_storage(
    url: str,
    *,
    heartbeat_interval: int | None = HEARTBEAT_INTERVAL,
    grace_period: int | None = None,
    patient: bool = False,
) -> optuna.storages.BaseStorage:
    """An Optuna RDB storage for ``url``, with heartbeats so a dead worker's trial becomes FAIL.

    A trial whose last heartbeat is older than ``grace_period`` (default four intervals) is failed by the
    next process that looks, and retried (:class:`~automl.store.RetryTrial`). Every call
    survives a lost connection for the storage's own grace period (:mod:`automl.store._retry`); ``patient``
    opening does too (a process a supervisor starts: the storage was there when the search began, so a
    refused connection is an outage, not a wrong URL).

    ``AUTOML_STORAGE`` replaces a URL whose password was masked (``***``) when it was written to a file.

    Raises:
        UserError: unknown scheme, unreachable server, or a path that cannot be written.
        MissingDependency: the database driver is not installed (names the extra).
    """
    import os

    import optuna
    import sqlalchemy.exc

    from automl.store._orphans import RetryTrial
    from automl.store._retry import ResilientStorage, patiently, storage_grace

    if "***@" in url and os.environ.get("AUTOML_STORAGE"):
        url = os.environ["AUTOML_STORAGE"]
    url = _check_url(url)
    if url.startswith("sqlite:///"):
        folder = Path(url[len("sqlite:///") :]).parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise UserError(
                "cannot write the SQLite storage in {folder}: create it or choose a writable {run_dir}",
                folder=folder,
                run_dir=Argument("run_dir"),
            )
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = RetryTrial() if heartbeat_interval else None

            def opened() -> optuna.storages.BaseStorage:
                return ResilientStorage(
                    url,
                    label=mask_password(url),
                    engine_kwargs=_engine_options(url),
                    heartbeat_interval=heartbeat_interval,
                    grace_period=None
                    if heartbeat_interval is None
                    else (grace_period or GRACE_FACTOR * heartbeat_interval),
                    heartbeat_stale_trial_callback=retry,
                )

            if not patient:
                return opened()
            return patiently(opened, label=mask_password(url), grace=storage_grace())
    except ImportError as exc:  # a driver _DRIVERS does not know (SQLAlchemy imports it when connecting)
        cause = exc.__cause__ or exc
        raise MissingDependency(
            f"storage {mask_password(url)!r} needs a database driver that is not installed ({cause}): "
            f"install the package of {url.split('://', 1)[0]!r}, "
            "or use postgresql:// (`pip install automl[postgres]`)"
        ) from None
    except (sqlalchemy.exc.SQLAlchemyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot open storage {mask_password(url)!r}: {first}; check the URL, the server and credentials"
        ) from None
