"""A PostgreSQL server of one test's own, which the test may restart or stop (never the shared one).

Uses the binaries ``.ci/postgres.sh`` installs (Debian's ``postgresql``); as root the server runs as the
``postgres`` user, as initdb refuses root.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binaries() -> Path | None:
    found = sorted(Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return None if initdb is None else Path(initdb).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateServer:
    """``start()``, ``stop()``, ``restart()`` a server on 127.0.0.1; :attr:`url` for its database."""

    def __init__(self) -> None:
        bin_dir = _binaries()
        if bin_dir is None:
            raise FileNotFoundError(
                "no PostgreSQL server binaries (initdb): `. .ci/postgres.sh` installs them"
            )
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="automl-private-pg."))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = _free_port()
        password = secrets.token_hex(8)
        self.url = f"postgresql+psycopg2://automl:{password}@127.0.0.1:{self.port}/automl"
        self._run(
            "initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
            "--auth-local=trust", "--auth-host=scram-sha-256",
        )  # fmt: skip
        self.start()
        self._run(
            "psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.dir), "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-c", f"CREATE ROLE automl LOGIN PASSWORD '{password}'",
            "-c", "CREATE DATABASE automl OWNER automl",
        )  # fmt: skip

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / program), *args], check=True, capture_output=True, timeout=120
        )

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-w", "-t", "60", *args)

    def start(self) -> None:
        self._ctl(
            "-l", str(self.dir / "server.log"),
            "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def restart(self) -> None:
        """What a maintenance restart or a failover does: every connection dropped, the server back soon."""
        self._ctl("-m", "fast", "-l", str(self.dir / "server.log"), "restart")

    def close(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)
