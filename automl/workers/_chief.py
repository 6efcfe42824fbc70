"""The coordinator process of a backend that proposes from one place rather than from the study
(KerasTuner's oracle: its registry entry names a ``chief`` module with ``main()`` and ``environment()``):
where it listens and where the workers reach it."""

from __future__ import annotations

import importlib
import socket
from dataclasses import dataclass
from typing import Any

__all__ = ["Chief", "free_port"]


@dataclass(frozen=True)
class Chief:
    """The coordinator process of a backend that has one (see the module doc).

    Args:
        module: Its module (the backend registry's ``chief``): ``main()`` and ``environment()``.
        bind: The address the chief listens on (``0.0.0.0`` to let other machines' workers join).
        connect: The address this machine's workers reach it at.
        port: Its port; 0 picks a free one.
        start: False when the chief runs elsewhere and these workers only join it.
    """

    module: str
    bind: str = "127.0.0.1"
    connect: str = "127.0.0.1"
    port: int = 0
    start: bool = True

    @classmethod
    def of(cls, backend: Any, **where: Any) -> Chief | None:
        """The chief ``backend``'s worker processes need, or None when they share the study itself."""
        module = backend.spec.chief
        return None if module is None or backend.spec.shares_study else cls(module, **where)

    def environment(self, tuner_id: str, *, chief: bool = False) -> dict[str, str]:
        env: dict[str, str] = importlib.import_module(self.module).environment(
            tuner_id, self.bind if chief else self.connect, self.port
        )
        return env


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host if host != "0.0.0.0" else "", 0))
        port: int = probe.getsockname()[1]
        return port
