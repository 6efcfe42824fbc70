"""Which Keras backend this process trains on: TensorFlow (the default), JAX or PyTorch.

Keras reads ``KERAS_BACKEND`` once, when it is first imported, so the choice has to be made before that:
the CLI's ``--keras-backend``, an experiment's ``keras_backend:`` key and ``automl.search(keras_backend=)``
all land in :func:`use_keras_backend`, which sets the variable for this process and the workers it starts.
A run records its backend in its manifest; a worker, a joining machine and ``retrain`` use the recorded one.

Imports neither Keras nor any backend: the light commands (leaderboard, report) stay light.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from automl.exceptions import MissingDependency, UserError

__all__ = ["DEFAULT_KERAS_BACKEND", "KERAS_BACKENDS", "chosen_keras_backend", "use_keras_backend"]

KERAS_BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_KERAS_BACKEND = "tensorflow"
_INSTALL = {
    "tensorflow": "pip install tensorflow",
    "jax": "pip install 'automl[jax]'",
    "torch": "pip install 'automl[torch]'",
}


def _checked(name: str, source: str) -> str:
    backend = name.strip().lower()
    if backend == "pytorch":
        backend = "torch"
    if backend not in KERAS_BACKENDS:
        raise UserError(f"{source}: unknown Keras backend {name!r}; use one of {', '.join(KERAS_BACKENDS)}")
    return backend


def chosen_keras_backend() -> str:
    """The backend this process trains (or will train) on: Keras's own if already imported, else
    ``KERAS_BACKEND``, else TensorFlow."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return str(keras.backend.backend())
    return _checked(os.environ.get("KERAS_BACKEND") or DEFAULT_KERAS_BACKEND, "KERAS_BACKEND")


def use_keras_backend(name: str | None, *, source: str = "--keras-backend") -> str:
    """Make ``name`` this process's Keras backend (``None``: keep :func:`chosen_keras_backend`); return it.

    Raises:
        UserError: an unknown name, or Keras already imported with another backend.
        MissingDependency: the backend is not installed (each one line, naming ``source``).
    """
    if name is None:
        name = chosen_keras_backend()
    backend = _checked(name, source)
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend") and keras.backend.backend() != backend:
        raise UserError(
            f"{source}: this run trains on Keras backend {backend!r}, but Keras is already loaded here with "
            f"{keras.backend.backend()!r}; start a new process with KERAS_BACKEND={backend}"
        )
    if importlib.util.find_spec(backend) is None:
        raise MissingDependency(
            f"{source}: Keras backend {backend!r} is not installed here; "
            f"install it ({_INSTALL[backend]}) or choose another"
        )
    os.environ["KERAS_BACKEND"] = backend
    return backend
