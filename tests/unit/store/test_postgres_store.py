"""Database-server storages: one clear line per mistake, and a password that never leaves the URL.

Tests marked ``postgres`` run on a real server (``postgres_url``: a fresh database per test, see
tests/conftest.py); the driver messages need none. What both storages must do alike (numbering, batched
writes) is tested on each in test_numbering.py.
"""

from __future__ import annotations

import logging
import socket
import sys

import optuna
import pytest
from sqlalchemy.engine import make_url

from automl.exceptions import MissingDependency, UserError
from automl.store import open_storage


def _with(url: str, **parts: object) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _one_line_without(error: BaseException, *secrets: str) -> str:
    message = str(error)
    assert "\n" not in message, message
    for secret in secrets:
        assert secret not in message, message
    return message


# --------------------------------------------------------------------------------- a real server
@pytest.mark.postgres
def test_a_fresh_database_holds_a_study_and_its_trials(postgres_url):
    storage = open_storage(postgres_url)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=3)
    again = optuna.load_study(study_name="s", storage=open_storage(postgres_url, heartbeat_interval=None))
    assert [t.number for t in again.trials] == [0, 1, 2]


@pytest.mark.postgres
def test_wrong_password_is_one_clear_line_without_either_password(postgres_url, caplog):
    caplog.set_level(logging.DEBUG)
    right = make_url(postgres_url).password
    wrong = "not-the-password-4711"
    with pytest.raises(UserError) as excinfo:
        open_storage(_with(postgres_url, password=wrong))
    message = _one_line_without(excinfo.value, right, wrong)
    assert "password authentication failed" in message and ":***@127.0.0.1" in message
    assert right not in caplog.text and wrong not in caplog.text


@pytest.mark.postgres
def test_unknown_database_is_one_clear_line(postgres_url):
    with pytest.raises(UserError) as excinfo:
        open_storage(_with(postgres_url, database="no_such_database"))
    message = _one_line_without(excinfo.value, make_url(postgres_url).password)
    assert 'database "no_such_database" does not exist' in message


def test_unreachable_server_is_one_clear_line_without_the_password():
    port = _closed_port()
    with pytest.raises(UserError) as excinfo:
        open_storage(f"postgresql+psycopg2://automl:pw-9f3k2@127.0.0.1:{port}/automl")
    message = _one_line_without(excinfo.value, "pw-9f3k2")
    assert f"cannot open storage 'postgresql+psycopg2://automl:***@127.0.0.1:{port}/automl'" in message
    assert "Connection refused" in message


# --------------------------------------------------------------------------------- drivers
@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2"])
def test_missing_postgres_driver_names_the_extra(monkeypatch, scheme):
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # `import psycopg2` raises ImportError
    with pytest.raises(MissingDependency) as excinfo:
        open_storage(f"{scheme}://automl:pw-9f3k2@127.0.0.1:5432/automl")
    message = _one_line_without(excinfo.value, "pw-9f3k2")
    assert "needs the PostgreSQL driver psycopg2" in message
    assert "`pip install automl[postgres]`" in message


@pytest.mark.parametrize(
    ("url", "module", "install"),
    [
        (
            "mysql://me:pw-9f3k2@db.example/automl",
            "MySQLdb",
            "`pip install pymysql` with a mysql+pymysql:// URL",
        ),
        ("mysql+pymysql://me:pw-9f3k2@db.example/automl", "pymysql", "`pip install pymysql`"),
        ("mysql+mysqlconnector://me:pw-9f3k2@db.example/a", "mysql.connector", "mysql-connector-python"),
    ],
)
def test_missing_mysql_driver_names_the_package(monkeypatch, url, module, install):
    for name in ("MySQLdb", "pymysql", "mysql", "mysql.connector"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependency) as excinfo:
        open_storage(url)
    message = _one_line_without(excinfo.value, "pw-9f3k2")
    assert f"needs the MySQL driver {module}" in message and install in message
    assert ":***@db.example" in message


def test_bare_mysql_url_uses_pymysql_when_mysqlclient_is_missing(monkeypatch):
    from automl.store._storage import _check_url

    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    monkeypatch.setitem(sys.modules, "pymysql", object())  # importable
    assert _check_url("mysql://me:pw@db/a") == "mysql+pymysql://me:pw@db/a"


def test_unknown_driver_is_a_missing_dependency_not_a_traceback(monkeypatch):
    monkeypatch.setitem(sys.modules, "pg8000", None)
    with pytest.raises(MissingDependency) as excinfo:
        open_storage("postgresql+pg8000://me:pw-9f3k2@127.0.0.1:1/automl")
    message = _one_line_without(excinfo.value, "pw-9f3k2")
    assert "pg8000" in message
