"""Train / validation / test index splits: seeded and stratified by class, or in row order for time series."""

from __future__ import annotations

import math

import numpy as np

from automl.exceptions import DatasetError

__all__ = ["SPLITS", "check_fractions", "split_indices"]

#: ``random``: seeded, stratified for classification. ``ordered``: the rows as given, train first, then
#: validation, then test, for data in time order (no model is scored on rows older than its training rows).
SPLITS = ("random", "ordered")


def check_fractions(
    val_fraction: float, test_fraction: float, *, has_test: bool, has_val: bool = False
) -> None:
    """Reject fractions that leave a split empty.

    ``val_fraction`` and ``test_fraction`` are shares of the rows to split; a split the user gave
    (``has_val``, ``has_test``) does not use its fraction.

    Raises:
        DatasetError: a fraction outside ``(0, 1)``, or fractions that leave no training rows.
    """
    used = [("val_fraction", val_fraction)] if not has_val else []
    used += [("test_fraction", test_fraction)] if not has_test else []
    for label, value in used:
        if not isinstance(value, int | float) or not 0.0 < float(value) < 1.0:
            raise DatasetError(f"{label} must be a number in (0, 1), got {value!r}; e.g. {label}=0.2")
    if sum(float(value) for _, value in used) >= 1.0:
        raise DatasetError(
            f"val_fraction + test_fraction must be below 1 to leave training rows, got "
            f"{val_fraction} + {test_fraction}; e.g. val_fraction=0.2, test_fraction=0.2"
        )


def split_indices(
    labels: np.ndarray | None,
    n_rows: int,
    *,
    fractions: tuple[float, ...],
    seed: int,
    class_names: dict[object, str] | None = None,
    ordered: bool = False,
) -> list[np.ndarray]:
    """Shuffle ``range(n_rows)`` with ``seed`` and cut it into ``1 + len(fractions)`` parts.

    ``ordered=True`` cuts the rows in their given order instead (no shuffle, no stratification).

    The first part (train) gets the rows the fractions leave. With ``labels`` (classification) each class
    is cut on its own, so every part holds every class in about its overall proportion, and each class needs
    at least one row per part. Each part's indices are shuffled, not sorted.

    Raises:
        DatasetError: too few rows, or a class with fewer rows than parts (named, with its count).
    """
    n_parts = 1 + len(fractions)
    rng = np.random.default_rng(seed)
    if ordered:
        if n_rows < n_parts:
            raise DatasetError(f"only {n_rows} rows: need at least {n_parts} to split train/validation/test")
        return _cut(np.arange(n_rows), fractions)
    if labels is None:
        if n_rows < n_parts:
            raise DatasetError(f"only {n_rows} rows: need at least {n_parts} to split train/validation/test")
        return _cut(rng.permutation(n_rows), fractions)
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    small = [(v, int(c)) for v, c in zip(values, counts, strict=True) if c < n_parts]
    if small:
        value, count = min(small, key=lambda item: item[1])
        name = (class_names or {}).get(value, str(value))
        what = "train/validation/test" if n_parts == 3 else "train/validation"
        raise DatasetError(
            f"class {name!r} has only {count} row(s), but a stratified {what} split needs at least {n_parts} "
            f"per class ({len(small)} class(es) too small); merge it into another class, drop its rows, "
            "or add data"
        )
    parts: list[list[np.ndarray]] = [[] for _ in range(n_parts)]
    for index in range(len(values)):
        rows = rng.permutation(np.flatnonzero(inverse == index))
        for part, piece in enumerate(_cut(rows, fractions)):
            parts[part].append(piece)
    return [rng.permutation(np.concatenate(pieces)) for pieces in parts]


def _cut(rows: np.ndarray, fractions: tuple[float, ...]) -> list[np.ndarray]:
    """Cut shuffled ``rows`` into train + one part per fraction, each part non-empty."""
    n = len(rows)
    sizes = [max(1, math.floor(f * n + 0.5)) for f in fractions]
    # Small groups: never let the held-out parts eat the last training row.
    while sum(sizes) > n - 1:
        largest = int(np.argmax(sizes))
        sizes[largest] -= 1
    pieces, start = [], n - sum(sizes)
    train = rows[:start]
    for size in sizes:
        pieces.append(rows[start : start + size])
        start += size
    return [train, *pieces]
