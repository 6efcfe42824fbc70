"""GPU discovery: the GPUs (and MIG instances) this machine shows, read from ``nvidia-smi`` without
TensorFlow, in the order and subset ``CUDA_VISIBLE_DEVICES`` gives them (indices, ``GPU-`` UUIDs and their
unique prefixes, ``MIG-`` instances; CUDA stops at the first entry it cannot read, and so do we)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Literal

__all__ = ["Gpu", "Precision", "discover_gpus"]

Precision = Literal["auto", "float32", "mixed_float16"]
#: mixed precision pays on tensor cores: compute capability 7.0 (Volta) and newer.
_MIXED_MIN_CAPABILITY = 7.0


@dataclass(frozen=True)
class Gpu:
    """One GPU, or one MIG instance of a GPU, as ``nvidia-smi`` reports it.

    ``index`` is nvidia-smi's index of the physical GPU (a MIG instance has its parent's); ``uuid`` is
    ``GPU-…`` or ``MIG-…``. A worker is shown its device by UUID where one is known: CUDA numbers devices
    fastest first unless ``CUDA_DEVICE_ORDER=PCI_BUS_ID``, so nvidia-smi's index can name another GPU
    to CUDA on a mixed machine, and a MIG instance has no index at all.
    """

    index: int
    name: str
    memory_mb: int
    capability: float | None = None
    uuid: str | None = None

    @property
    def supports_mixed(self) -> bool:
        return self.capability is not None and self.capability >= _MIXED_MIN_CAPABILITY

    @property
    def visible_id(self) -> str:
        """What a worker's ``CUDA_VISIBLE_DEVICES`` holds to show it this device alone."""
        return self.uuid or str(self.index)

    @property
    def is_mig(self) -> bool:
        return bool(self.uuid and self.uuid.startswith("MIG-"))

    @property
    def label(self) -> str:
        """``gpu:0``, or ``gpu:0/MIG-4f1e…`` for an instance of GPU 0."""
        return f"gpu:{self.index}/{self.uuid[:12]}" if self.is_mig and self.uuid else f"gpu:{self.index}"


def discover_gpus(nvidia_smi: str | None = None) -> list[Gpu]:
    """The GPUs this process may use, without importing TensorFlow.

    Reads ``nvidia-smi`` (none on the ``PATH``: no GPU). When ``CUDA_VISIBLE_DEVICES`` is set, keeps the
    devices it names, in its order and as CUDA reads it: indices, ``GPU-`` UUIDs or unique prefixes of
    them, ``MIG-`` instance UUIDs (as schedulers set them), an empty value hiding every GPU, and nothing
    after the first entry that names no device.
    """
    command = nvidia_smi or shutil.which("nvidia-smi")
    if command is None:
        return []
    query = "--query-gpu=index,uuid,name,memory.total,compute_cap"
    out = _ask(command, query, "--format=csv,noheader,nounits")
    gpus = []
    for line in (out or "").strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4 or not parts[0].isdigit():
            continue
        capability = _number(parts[4]) if len(parts) > 4 else None
        gpus.append(Gpu(int(parts[0]), parts[2], int(_number(parts[3]) or 0), capability, uuid=parts[1]))
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return gpus
    wanted = [v.strip() for v in visible.split(",") if v.strip()]
    instances = _mig_instances(command, gpus) if any(w.startswith("MIG-") for w in wanted) else []
    chosen: list[Gpu] = []
    for entry in wanted:
        match = _named_by(entry, gpus, instances)
        if match is None:
            break  # CUDA ignores every entry after one that names no device
        if match not in chosen:
            chosen.append(match)
    return chosen


def _ask(command: str, *arguments: str) -> str | None:
    try:
        return subprocess.run(
            [command, *arguments], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # a driver that does not answer is a machine without a usable GPU


def _named_by(entry: str, gpus: list[Gpu], instances: list[Gpu]) -> Gpu | None:
    """The device one ``CUDA_VISIBLE_DEVICES`` entry names: an index, or a unique prefix of a UUID."""
    if entry.isdigit():
        return next((g for g in gpus if g.index == int(entry)), None)
    pool = instances if entry.startswith("MIG-") else gpus
    matches = [g for g in pool if (g.uuid or "").startswith(entry)]
    return matches[0] if len(matches) == 1 else None


#: ``nvidia-smi -L`` lines: a GPU, then its MIG instances indented below it.
_GPU_LINE = re.compile(r"^GPU (\d+): .*\(UUID: (GPU-[^)]+)\)")
_MIG_LINE = re.compile(r"^\s+MIG (\S+)\s+Device\s+\d+: \(UUID: (MIG-[^)]+)\)")


def _mig_instances(command: str, gpus: list[Gpu]) -> list[Gpu]:
    """The MIG instances ``nvidia-smi -L`` lists, each with its parent's index and compute capability
    and the memory its profile names (``3g.20gb``: 20 GB)."""
    parents = {g.index: g for g in gpus}
    instances: list[Gpu] = []
    parent: Gpu | None = None
    for line in (_ask(command, "-L") or "").splitlines():
        if found := _GPU_LINE.match(line):
            parent = parents.get(int(found.group(1)))
        elif (found := _MIG_LINE.match(line)) and parent is not None:
            profile, uuid = found.groups()
            size = re.search(r"(\d+)gb", profile)
            memory = int(size.group(1)) * 1024 if size else parent.memory_mb
            instances.append(
                Gpu(parent.index, f"{parent.name} MIG {profile}", memory, parent.capability, uuid=uuid)
            )
    return instances


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
