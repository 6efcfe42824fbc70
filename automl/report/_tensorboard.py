"""A run's trials as TensorBoard logs: per-epoch curves and the HParams dashboard, from the stored histories.

Each trial becomes one TensorBoard run (``<log_dir>/<dataset>/<space>/<backend-algorithm>/trial-<n>``)
holding its per-epoch scalars (``loss``, ``val_loss``, the metrics, ``lr``), its ``score`` (the
validation objective the search ranked it by) and its hyperparameters; the study's folder holds the
HParams experiment (parameter names, types and values, and the ``score`` metric). Nothing is trained
again. The events are TensorBoard's protocol buffers in TFRecord framing written here, because
TensorBoard's own writer imports TensorFlow whenever it is installed.
"""

from __future__ import annotations

import math
import os
import re
import socket
import struct
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from automl._diskspace import writing
from automl.exceptions import Argument, UserError
from automl.store import (
    StudyInfo,
    TrialRecord,
    TrialState,
    load_records,
    load_study_info,
    open_run,
)

__all__ = ["export_tensorboard"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc32c_table()


def _masked_crc(data: bytes) -> int:
    """CRC-32C (Castagnoli), masked as TFRecord files store it."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


class _EventFile:
    """One ``events.out.tfevents.*`` file: TFRecord framing around serialised ``Event`` messages."""

    _count = 0

    def __init__(self, folder: Path) -> None:
        from tensorboard.compat.proto import event_pb2

        folder.mkdir(parents=True, exist_ok=True)
        _EventFile._count += 1
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{self._count}"
        self._file = (folder / name).open("wb")
        self.add(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add(self, event: Any) -> None:
        data = event.SerializeToString()
        header = struct.pack("<Q", len(data))
        self._file.write(header + struct.pack("<I", _masked_crc(header)))
        self._file.write(data + struct.pack("<I", _masked_crc(data)))

    def close(self) -> None:
        self._file.close()


def _folder(name: str) -> str:
    """A path part that any file system takes (hostile dataset names included)."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "_"
    return cleaned[:80]


def _value(value: Any) -> Any:
    from google.protobuf import struct_pb2

    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, int | float):
        return struct_pb2.Value(number_value=float(value))
    return struct_pb2.Value(string_value=str(value))


def _hparams_summary(data: Any) -> Any:
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import metadata, plugin_data_pb2

    tags = {
        "experiment": metadata.EXPERIMENT_TAG,
        "session_start_info": metadata.SESSION_START_INFO_TAG,
        "session_end_info": metadata.SESSION_END_INFO_TAG,
    }
    plugin = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION)
    field = next(name for name in tags if isinstance(data, type(getattr(plugin, name))))
    getattr(plugin, field).CopyFrom(data)
    return summary_pb2.Summary(
        value=[
            summary_pb2.Summary.Value(
                tag=tags[field],
                metadata=metadata.create_summary_metadata(plugin),
                tensor=metadata.NULL_TENSOR,
            )
        ]
    )


def _experiment(records: Sequence[TrialRecord], info: StudyInfo) -> Any:
    from tensorboard.plugins.hparams import api_pb2

    names = list(dict.fromkeys(k for r in records for k in r.config))
    infos = []
    for name in names:
        values = [r.config[name] for r in records if name in r.config]
        if all(isinstance(v, bool) for v in values):
            kind = api_pb2.DATA_TYPE_BOOL
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            kind = api_pb2.DATA_TYPE_FLOAT64
        else:
            kind = api_pb2.DATA_TYPE_STRING
        infos.append(api_pb2.HParamInfo(name=name, type=kind))
    better = "higher" if info.direction == "maximize" else "lower"
    metric = api_pb2.MetricInfo(
        name=api_pb2.MetricName(tag="score"), display_name=f"validation {info.metric} ({better} is better)"
    )
    return api_pb2.Experiment(hparam_infos=infos, metric_infos=[metric], time_created_secs=time.time())


def _event(summary: Any, step: int = 0, wall_time: float | None = None) -> Any:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=wall_time or time.time(), step=step, summary=summary)


def _scalar(tag: str, value: float) -> Any:
    from tensorboard.compat.proto import summary_pb2

    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])


def _write_trial(folder: Path, record: TrialRecord) -> None:
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2

    started = record.started.timestamp() if record.started else time.time()
    ended = record.finished.timestamp() if record.finished else started
    writer = _EventFile(folder)
    try:
        start = plugin_data_pb2.SessionStartInfo(start_time_secs=started, group_name=folder.name)
        for name, value in record.config.items():
            if value is not None:
                start.hparams[name].CopyFrom(_value(value))
        writer.add(_event(_hparams_summary(start), wall_time=started))
        for key, values in record.history.items():
            for epoch, value in enumerate(values, start=1):
                if value is not None and math.isfinite(float(value)):
                    writer.add(_event(_scalar(key, float(value)), step=epoch, wall_time=started))
        if record.score is not None:
            step = record.best_epoch or record.epochs_run or 0
            writer.add(_event(_scalar("score", float(record.score)), step=step, wall_time=ended))
        status = {
            TrialState.COMPLETE: api_pb2.STATUS_SUCCESS,
            TrialState.FAIL: api_pb2.STATUS_FAILURE,
        }.get(record.state, api_pb2.STATUS_UNKNOWN)  # a pruned trial neither succeeded nor failed
        end = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=ended)
        writer.add(_event(_hparams_summary(end), wall_time=ended))
    finally:
        writer.close()


def export_tensorboard(run_dir: str | Path, log_dir: str | Path) -> list[Path]:
    """Write every trial of the run in ``run_dir`` as TensorBoard logs under ``log_dir``.

    Returns the study folders written (``tensorboard --logdir LOG_DIR`` shows them; the HParams tab
    compares trials). Re-running replaces nothing: TensorBoard reads each event file it finds, so give an
    empty ``log_dir`` to avoid seeing a trial twice.

    Raises:
        UserError: ``run_dir`` holds no run, or ``log_dir`` cannot be written.
        DiskFull: ``log_dir``'s disk is full (one line naming it).
    """
    _, manifest, storage = open_run(run_dir)
    root = Path(log_dir)
    written = []
    try:
        with writing(root, resume=False):
            _write_studies(manifest, storage, root, written)
    except OSError as exc:
        raise UserError(
            "cannot write TensorBoard logs to {root} ({problem}); choose another {log_dir}",
            root=root,
            problem=exc.strerror,
            log_dir=Argument("log_dir"),
        ) from None
    return written


def _write_studies(manifest: Any, storage: Any, root: Path, written: list[Path]) -> None:
    """Each study's event files under ``root``, its folder appended to ``written`` once done."""
    for name in manifest.studies:
        info = load_study_info(storage, name)
        records = [r for r in load_records(storage, name) if r.state is not TrialState.RUNNING]
        parts = [_folder(p) for p in (info.dataset, info.space, f"{info.backend}-{info.algorithm}")]
        folder = root.joinpath(*parts)
        writer = _EventFile(folder)
        try:
            writer.add(_event(_hparams_summary(_experiment(records, info))))
        finally:
            writer.close()
        for record in records:
            _write_trial(folder / f"trial-{record.number:04d}", record)
        written.append(folder)
