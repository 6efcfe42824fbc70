"""Device slots: which devices a search trains on, one worker process per slot.

A *slot* is a device (one GPU, or a share of the CPU cores) plus a thread budget. Slots are planned in
the parent process without importing TensorFlow, from the GPUs :mod:`automl.workers._discovery` finds;
each worker is then started with its own ``CUDA_VISIBLE_DEVICES`` (so it sees
exactly its GPU, as device 0) and, on CPU, a pinned thread budget.

Rules (each contradiction is one :class:`~automl.exceptions.UserError` line):

* ``gpus="all"`` or a count, or ``gpu_ids=[0, 2]`` (not both); ``trials_per_gpu=K`` slots per GPU.
* ``workers=N`` or ``"auto"`` makes CPU slots; it cannot be combined with GPUs.
* With nothing given: every GPU with one slot each if there are GPUs, else ``auto`` CPU workers.
* ``auto`` on CPU: one single-threaded worker per core when there are at least two cores (several
  single-threaded processes beat one multi-threaded one on small models: see benchmarks/scaling.py), and
  one in-process slot on a single core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from automl.exceptions import Argument, UserError
from automl.workers._discovery import Gpu, Precision, discover_gpus

__all__ = [
    "RECYCLE_AFTER",
    "DeviceRequest",
    "Slot",
    "check_backend_fits",
    "in_process",
    "parse_devices",
    "plan_slots",
    "short_search",
]


@dataclass(frozen=True)
class Slot:
    """One worker's device and budget.

    Attributes:
        index: The slot's number (worker ``w<index>``).
        gpu: The GPU it trains on, or None for a CPU slot.
        threads: TensorFlow's intra-op threads (CPU slots); None leaves TensorFlow's default.
        memory_limit_mb: A hard cap on the worker's GPU memory, when several workers share one GPU.
        precision: The Keras dtype policy the worker sets.
    """

    index: int
    gpu: Gpu | None = None
    threads: int | None = None
    memory_limit_mb: int | None = None
    precision: Precision = "float32"

    @property
    def device(self) -> str:
        return "cpu" if self.gpu is None else self.gpu.label

    def environment(self) -> dict[str, str]:
        """Environment variables of the worker process of this slot."""
        env = {"AUTOML_SLOT": str(self.index)}
        if self.gpu is None:
            # Hide every GPU: a CPU worker must not grab GPU memory, nor print CUDA start-up errors.
            env["CUDA_VISIBLE_DEVICES"] = ""
        else:
            env["CUDA_VISIBLE_DEVICES"] = self.gpu.visible_id
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        if self.threads is not None:
            for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
                env[name] = str(self.threads)
            env["TF_NUM_INTEROP_THREADS"] = "1"
        return env

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "device": self.device,
            "gpu": None if self.gpu is None else vars(self.gpu),
            "threads": self.threads,
            "memory_limit_mb": self.memory_limit_mb,
            "precision": self.precision,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Slot:
        gpu = data.get("gpu")
        return cls(
            index=int(data["index"]),
            gpu=None if gpu is None else Gpu(**gpu),
            threads=data.get("threads"),
            memory_limit_mb=data.get("memory_limit_mb"),
            precision=data.get("precision", "float32"),
        )


@dataclass(frozen=True)
class DeviceRequest:
    """What the caller asked for (``devices=`` in Python, the device flags, an experiment's ``devices:``)."""

    gpus: str | int | None = None
    gpu_ids: tuple[int, ...] | None = None
    trials_per_gpu: int = 1
    workers: str | int | None = None
    precision: Precision = "auto"


def parse_devices(value: Any) -> DeviceRequest:
    """A :class:`DeviceRequest` from ``devices=``: None, ``"auto"``, ``"cpu"``, ``"all"`` (every GPU),
    an int (CPU workers), or a mapping with ``gpus``, ``gpu_ids``, ``trials_per_gpu``, ``workers``,
    ``precision``."""
    if value is None or value == "auto":
        return DeviceRequest()
    if value == "cpu":
        return DeviceRequest(workers="auto")
    if value == "all":
        return DeviceRequest(gpus="all")
    if isinstance(value, int) and not isinstance(value, bool):
        return DeviceRequest(workers=value)
    if isinstance(value, DeviceRequest):
        return value
    if not isinstance(value, dict):
        raise UserError(
            f"`devices` takes 'auto', 'cpu', 'all', a number of CPU workers or a mapping, not {value!r}"
        )
    known = {"gpus", "gpu_ids", "trials_per_gpu", "workers", "precision"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise UserError(f"unknown `devices` key {unknown[0]!r}; use any of: {', '.join(sorted(known))}")
    ids = value.get("gpu_ids")
    if isinstance(ids, str):
        ids = _gpu_ids(ids)
    return DeviceRequest(
        gpus=value.get("gpus"),
        gpu_ids=None if ids is None else tuple(int(i) for i in ids),
        trials_per_gpu=int(value.get("trials_per_gpu", 1)),
        workers=value.get("workers"),
        precision=value.get("precision", "auto"),
    )


def _gpu_ids(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UserError(
            "{gpu_ids} takes GPU numbers separated by commas, e.g. 0,2; not {text!r}",
            gpu_ids=Argument("gpu_ids"),
            text=text,
        ) from None


def plan_slots(
    request: DeviceRequest,
    *,
    gpus: list[Gpu] | None = None,
    cpu_count: int | None = None,
    short: bool = False,
) -> list[Slot]:
    """The slots of a search (see the module doc for the rules).

    ``short``: the search is too short for worker processes to pay for their start-up (each imports
    TensorFlow and loads the data, about 6 s on 2 cores); ``auto`` then keeps one in-process CPU slot.

    Raises:
        UserError: contradictory requests, ``workers`` below 1, GPUs asked for on a machine without any,
            a GPU id that does not exist, a bad ``precision``.
    """
    found = discover_gpus() if gpus is None else gpus
    cores = cpu_count or os.cpu_count() or 1
    if request.precision not in ("auto", "float32", "mixed_float16", "mixed"):
        raise UserError(
            "{precision} takes auto, float32 or mixed, not {given!r}",
            precision=Argument("precision"),
            given=request.precision,
        )
    precision_asked = "mixed_float16" if request.precision == "mixed" else request.precision
    if request.trials_per_gpu < 1:
        raise UserError(
            "{trials_per_gpu} must be at least 1, but got {got}",
            trials_per_gpu=Argument("trials_per_gpu"),
            got=request.trials_per_gpu,
        )
    wants_gpus = request.gpus is not None or request.gpu_ids is not None
    if wants_gpus and request.workers is not None:
        raise UserError(
            "{workers} makes CPU slots and {gpus} / {gpu_ids} GPU slots: give one of them "
            "(with GPUs, {trials_per_gpu} sets the workers per GPU)",
            workers=Argument("workers"),
            gpus=Argument("gpus"),
            gpu_ids=Argument("gpu_ids"),
            trials_per_gpu=Argument("trials_per_gpu"),
        )
    if request.gpus is not None and request.gpu_ids is not None:
        raise UserError(
            "give either {gpus} (all or a count) or {gpu_ids} (which ones), not both",
            gpus=Argument("gpus"),
            gpu_ids=Argument("gpu_ids"),
        )
    if wants_gpus or (request.workers is None and found):
        return _gpu_slots(request, found, precision_asked)
    if request.trials_per_gpu != 1:
        raise UserError(
            "{trials_per_gpu} needs GPUs: this machine has none (no nvidia-smi); drop it",
            trials_per_gpu=Argument("trials_per_gpu"),
        )
    if short and request.workers in (None, "auto"):
        return [Slot(0)]
    return _cpu_slots(request.workers, cores)


def _gpu_slots(request: DeviceRequest, found: list[Gpu], precision: str) -> list[Slot]:
    if not found:
        raise UserError(
            "{gpus} asks for GPUs, but this machine shows none (no nvidia-smi, or CUDA_VISIBLE_DEVICES "
            "hides them); drop it to train on the CPU",
            gpus=Argument("gpus"),
        )
    chosen = found
    if request.gpu_ids is not None:
        known = {g.index for g in found}
        missing = [i for i in request.gpu_ids if i not in known]
        if missing:
            raise UserError(
                "{gpu_ids}: no GPU {missing} on this machine; it has {known}",
                gpu_ids=Argument("gpu_ids"),
                missing=missing[0],
                known=", ".join(str(i) for i in sorted(known)),
            )
        if len(set(request.gpu_ids)) != len(request.gpu_ids):
            raise UserError(
                "{gpu_ids} lists a GPU twice; use {trials_per_gpu} for several workers per GPU",
                gpu_ids=Argument("gpu_ids"),
                trials_per_gpu=Argument("trials_per_gpu"),
            )
        # A GPU split into MIG instances brings each of them.
        chosen = [g for i in request.gpu_ids for g in found if g.index == i]
    elif request.gpus not in (None, "all"):
        count = _count(request.gpus, "gpus", "all")
        if count > len(found):
            raise UserError(
                "{gpus} asks for {count} GPUs, but this machine has {found}",
                gpus=Argument("gpus"),
                count=count,
                found=len(found),
            )
        chosen = found[:count]
    slots: list[Slot] = []
    k = request.trials_per_gpu
    for gpu in chosen:
        mixed = gpu.supports_mixed if precision == "auto" else precision == "mixed_float16"
        if precision == "mixed_float16" and not gpu.supports_mixed:
            raise UserError(
                "{precision} mixed needs compute capability 7.0 or more; GPU {index} ({gpu}) has "
                "{capability}; use float32",
                precision=Argument("precision"),
                index=gpu.index,
                gpu=gpu.name,
                capability=gpu.capability,
            )
        # Several workers on one GPU each get a hard share of its memory (growth alone lets one take all).
        cap = None if k == 1 else max(int(gpu.memory_mb * 0.9 / k), 256)
        for _ in range(k):
            slots.append(
                Slot(
                    len(slots),
                    gpu=gpu,
                    memory_limit_mb=cap,
                    precision="mixed_float16" if mixed else "float32",
                )
            )
    return slots


def _cpu_slots(workers: str | int | None, cores: int) -> list[Slot]:
    auto = workers in (None, "auto")
    count = (cores if cores >= 2 else 1) if auto else _count(workers, "workers", "auto")
    # Threads per worker: the cores shared evenly, at least one (more workers than cores oversubscribe).
    threads = max(cores // count, 1)
    return [Slot(i, threads=threads) for i in range(count)]


def _count(value: Any, name: str, word: str) -> int:
    """``value`` (an int, or its text from the command line) as a count of at least 1."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise UserError(
            "{argument} takes a number or {word!r}, not {value!r}",
            argument=Argument(name),
            word=word,
            value=value,
        ) from None
    if count < 1:
        raise UserError(
            "{argument} must be at least 1, but got {count}", argument=Argument(name), count=count
        )
    return count


def check_backend_fits(backend: Any, slots: list[Slot]) -> None:
    """Worker processes need a backend that can share one search between processes (its registry entry
    says ``shares_study`` or names a ``chief``). Raises UserError in one line otherwise."""
    if not in_process(slots) and not backend.spec.runs_on_workers:
        raise UserError(
            "{slots} worker processes need a backend that shares its search between processes; "
            "the {backend} backend searches in one process: set {workers} to 1",
            slots=len(slots),
            backend=backend.name,
            workers=Argument("workers"),
        )


def in_process(slots: list[Slot]) -> bool:
    """Whether the search runs in this process: one CPU slot (a GPU slot always gets its own process,
    whose ``CUDA_VISIBLE_DEVICES`` shows it exactly its GPU)."""
    return len(slots) == 1 and slots[0].gpu is None


#: trials a worker runs before a fresh process replaces it. With the trial runner freeing what tracing a
#: model registers, a worker grew 27.5 MB over 100 small trials where a plain training loop grew 618 MB
#: (benchmarks/memory.py); a restart costs one TensorFlow import (~6 s on 2 cores), so it is a rare
#: safety net against what other libraries may keep, not a routine.
RECYCLE_AFTER = 100

#: below these budgets worker start-up outweighs a second core (see benchmarks/scaling.py).
SHORT_TIMEOUT = 60.0
SHORT_TRIALS = 10


def short_search(trials: int | None, timeout: float | None) -> bool:
    """Whether a budget is too small for ``auto`` to start worker processes."""
    return (timeout is not None and timeout < SHORT_TIMEOUT) or (trials is not None and trials < SHORT_TRIALS)
