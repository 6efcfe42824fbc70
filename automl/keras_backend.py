"""Which Keras backend this process trains on: TensorFlow (the default), JAX or PyTorch.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so the choice has to be made before that:
the CLI's ``--keras-backend``, an experiment's ``keras_backend:`` key and ``AutoMLSearch(keras_backend=)``
all land in :func:`use_keras_backend`, which sets the variable for this process and the workers it starts.
A run records its backend in its manifest; a worker, a joining machine and ``retrain`` use the recorded one
(:func:`resumed_keras_backend`).

Imports neither Keras nor any backend: the light commands (leaderboard, report) stay light.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from automl.exceptions import Argument, MissingDependency, UserError

__all__ = [
    "DEFAULT_KERAS_BACKEND",
    "KERAS_BACKENDS",
    "chosen_keras_backend",
    "resumed_keras_backend",
    "use_keras_backend",
]

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_KERAS_BACKEND = "tensorflow"
_INSTALL = {
    "tensorflow": "pip install tensorflow",
    "jax": "pip install 'automl[jax]'",
    "torch": "pip install 'automl[torch]'",
}
_SETTING = Argument("keras_backend")


def _checked(name: str, source: Argument | str) -> str:
    backend = str(name).strip().lower()
    if backend == "pytorch":
        backend = "torch"
    if backend not in KERAS_BACKENDS:
        raise UserError(
            "{source}: unknown Keras backend {name!r}; use one of {known}",
            source=source,
            name=name,
            known=", ".join(KERAS_BACKENDS),
        )
    return backend


def _loaded() -> str | None:
    """The backend of the Keras already imported in this process, if any."""
    keras = sys.modules.get("keras")
    backend = getattr(keras, "backend", None)
    return None if backend is None else str(backend.backend())


def chosen_keras_backend() -> str:
    """The backend this process trains (or will train) on: Keras's own if already imported, else
    ``KERAS_BACKEND``, else TensorFlow."""
    return _loaded() or _checked(os.environ.get("KERAS_BACKEND") or DEFAULT_KERAS_BACKEND, "KERAS_BACKEND")


def use_keras_backend(name: str | None, *, source: Argument | str = _SETTING) -> str:
    """Make ``name`` this process's Keras backend (``None``: keep :func:`chosen_keras_backend`); return it.

    Raises:
        UserError: an unknown name, or Keras already imported here with another backend.
        MissingDependency: the backend is not installed (each one line, naming ``source``).
    """
    backend = chosen_keras_backend() if name is None else _checked(name, source)
    loaded = _loaded()
    if loaded is not None and loaded != backend:
        raise UserError(
            "{source}: this run trains on Keras backend {backend!r}, but Keras is already loaded in this "
            "process with {loaded!r}; choose the backend before Keras loads (KERAS_BACKEND={backend}), or "
            "start a new process",
            source=source,
            backend=backend,
            loaded=loaded,
        )
    if importlib.util.find_spec(backend) is None:
        raise MissingDependency(
            "{source}: Keras backend {backend!r} is not installed here; install it ({install}) or choose "
            "another",
            source=source,
            backend=backend,
            install=_INSTALL[backend],
        )
    os.environ["KERAS_BACKEND"] = backend
    return backend


def resumed_keras_backend(recorded: str, asked: str | None, *, source: Argument | str = _SETTING) -> str:
    """Use a run's ``recorded`` backend for its resumption, retrain or workers; return it.

    Raises:
        UserError: ``asked`` names another backend (one line: a run's trials all train on one).
        MissingDependency: the recorded backend is not installed here.
    """
    other = None if asked is None else _checked(asked, source)
    if other is not None and other != recorded:
        raise UserError(
            "{source}: this run trains on Keras backend {recorded!r}, not {asked!r}; leave the setting out, "
            "or start a new run",
            source=source,
            recorded=recorded,
            asked=other,
        )
    return use_keras_backend(recorded, source=f"the run's Keras backend ({recorded})")
