"""Fixtures every test folder shares."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def cli(capsys) -> Callable[[list[str]], tuple[int, str, str]]:
    """Run the `automl` command in this process: ``cli([...])`` → ``(exit code, stdout, stderr)``."""
    from automl.cli import main

    def run(argv: list[str]) -> tuple[int, str, str]:
        try:
            main(argv)
            code = 0
        except SystemExit as exit:
            code = int(exit.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL database for this test alone, dropped afterwards.

    The server is the one ``AUTOML_TEST_POSTGRES_URL`` names (``.ci/postgres.sh`` starts one); its user
    must be allowed to create databases. Without the variable the test skips, except under ``CI=true``,
    where a missing server fails it.
    """
    import os
    import uuid

    base = os.environ.get("AUTOML_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail("AUTOML_TEST_POSTGRES_URL is not set: start a server with `. .ci/postgres.sh`")
        pytest.skip(
            "needs a PostgreSQL server: set AUTOML_TEST_POSTGRES_URL (`. .ci/postgres.sh` starts one)"
        )
    import psycopg2
    from sqlalchemy.engine import make_url

    server = make_url(base)
    name = f"automl_test_{uuid.uuid4().hex[:12]}"

    def admin(statement: str) -> None:
        connection = psycopg2.connect(
            host=server.host, port=server.port or 5432, user=server.username, password=server.password,
            dbname=server.database or "postgres",
        )  # fmt: skip
        try:
            connection.autocommit = True  # CREATE / DROP DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    admin(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE ends connections a test left open (a killed worker's, a pool's).
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def storage_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A fresh, empty storage for this test alone, once per kind: a SQLite file in ``tmp_path``, and a
    PostgreSQL database of its own (``postgres_url``: marked ``postgres``, skipped without a server).

    For the tests of what both storages must do alike (trial numbers, seeds, workers sharing a study);
    other tests stay on SQLite.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'automl.db'}"
    return request.getfixturevalue("postgres_url")
