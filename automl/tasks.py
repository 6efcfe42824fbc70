"""The learning task of a dataset, which fixes the output layer, the loss and the metrics."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Task"]


class Task(StrEnum):
    """What a dataset's target asks for."""

    BINARY = "binary"
    MULTICLASS = "multiclass"
    REGRESSION = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.REGRESSION

    @classmethod
    def parse(cls, value: str | Task) -> Task:
        """Read a task name, accepting ``classification`` (resolved later) only where the caller allows it."""
        if isinstance(value, Task):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            from automl.exceptions import UserError

            names = ", ".join(t.value for t in cls)
            raise UserError(f"unknown task {value!r}; use one of: {names}") from None
