"""Reading user files: CSV / TSV (optionally gzipped), Parquet and NPZ."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from automl.datasets._raw import RawData, arrays_to_raw, frame_to_raw
from automl.exceptions import DatasetError

__all__ = ["SUPPORTED_EXTENSIONS", "file_format", "read_file", "read_test_file"]

FileFormat = Literal["csv", "tsv", "parquet", "npz"]
_FORMATS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".tsv.gz": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
}
SUPPORTED_EXTENSIONS = tuple(_FORMATS)
# UCI-style files write a missing value as "?"; pandas' defaults already cover "", "NA", "NaN", "null", …
_EXTRA_NA = ["?"]


def file_format(path: str | Path) -> FileFormat | None:
    """The format a file name announces, or ``None`` for an unsupported extension."""
    name = str(path).lower()
    for extension, fmt in sorted(_FORMATS.items(), key=lambda item: -len(item[0])):
        if name.endswith(extension):
            return fmt
    return None


def _require_format(path: Path) -> FileFormat:
    fmt = file_format(path)
    if fmt is None:
        raise DatasetError(
            f"cannot read {path}: unsupported file type; use one of {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    if not path.is_file():
        raise DatasetError(f"file not found: {path} (working directory: {Path.cwd()})")
    return fmt


def read_table(path: Path, fmt: FileFormat) -> pd.DataFrame:
    """A CSV / TSV / Parquet file as a DataFrame, with read errors turned into one clear line."""
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", na_values=_EXTRA_NA)
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path} is empty; give a file with a header and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as error:
        raise DatasetError(f"could not read {path} as {fmt}: {_first_line(error)}") from None


def read_file(path: str | os.PathLike[str], target: str | None) -> RawData:
    """Read a data file into :class:`RawData`.

    Tables take their target from the column ``target`` (default: the last column, noted in
    ``info["target_note"]``). An NPZ file holds arrays ``x`` and ``y`` and optionally an official
    ``x_test`` / ``y_test``; ``x`` of rank 2 is a table (columns ``x0, x1, …``), of rank 3 or 4 images.

    Raises:
        DatasetError: missing file, unsupported extension, unreadable or empty content, missing target.
    """
    path = Path(path)
    fmt = _require_format(path)
    if fmt == "npz":
        return _read_npz(path)
    raw = frame_to_raw(read_table(path, fmt), target, where=str(path))
    raw.source = str(path)
    return raw


def read_test_file(path: str | os.PathLike[str], like: RawData, what: str = "test") -> tuple[Any, np.ndarray]:
    """A user's test (or validation: ``what``) file, read like the main data (same target column)."""
    path = Path(path)
    fmt = _require_format(path)
    if fmt == "npz":
        test = _read_npz(path)
    else:
        test = frame_to_raw(read_table(path, fmt), like.target, where=f"{what} file {path}")
    if test.kind != like.kind:
        raise DatasetError(f"{what} file {path} holds {test.kind} data but the main data is {like.kind}")
    return test.x, test.y


def _read_npz(path: Path) -> RawData:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DatasetError(
            f"could not read {path} as npz (numeric arrays x and y): {_first_line(error)}"
        ) from None
    if "x" not in arrays or "y" not in arrays:
        raise DatasetError(
            f"{path} must hold arrays named 'x' and 'y' (optionally x_test, y_test); it has {sorted(arrays)}"
        )
    raw = arrays_to_raw(arrays["x"], arrays["y"], arrays.get("x_test"), arrays.get("y_test"), where=str(path))
    return raw


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
