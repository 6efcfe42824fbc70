"""Faults, storage: a database server that closes every connection (a restart, a failover) under a
search's open storage. Each test has its own database on the test server."""

from __future__ import annotations

import optuna
import pytest

from automl.store import open_storage


def _close_every_connection(url: str) -> int:
    """What a server restart does to a client's pool: every session of the database ends."""
    import psycopg2
    from sqlalchemy.engine import make_url

    server = make_url(url)
    connection = psycopg2.connect(
        host=server.host, port=server.port or 5432, user=server.username, password=server.password,
        dbname=server.database,
    )  # fmt: skip
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            (closed,) = cursor.fetchone()
    finally:
        connection.close()
    return int(closed)


@pytest.mark.postgres
def test_pooled_connections_the_server_closed_are_replaced_before_use(postgres_url):
    storage = open_storage(postgres_url, heartbeat_interval=None)
    study = optuna.create_study(study_name="restart", storage=storage)
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert _close_every_connection(postgres_url) >= 1  # the storage's pooled connection is gone
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
