"""Search backends behind one interface; each module here is the only importer of its library."""

from automl.backends import _registry as registry
from automl.backends._base import BACKENDS, Backend, get_backend, recorded_backend

__all__ = ["BACKENDS", "Backend", "get_backend", "recorded_backend", "registry"]
