"""GPU discovery: the GPUs (and MIG instances) this machine shows, without TensorFlow, in the order and
subset ``CUDA_VISIBLE_DEVICES`` gives them (indices, ``GPU-`` UUIDs and their unique prefixes, ``MIG-``
instances; CUDA stops at the first entry it cannot read, and so do we).

Two sources, in this order: NVIDIA's own bindings (NVML through ``pynvml``, from ``nvidia-ml-py`` in the
``gpu`` extra) when they import and initialise, else the output of ``nvidia-smi`` on the ``PATH``; with
neither, no GPU. :func:`gpu_process_memory` reads the GPU memory each process uses the same two ways.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

__all__ = ["Gpu", "Precision", "discover_gpus", "gpu_process_memory"]

Precision = Literal["auto", "float32", "mixed_float16"]
#: mixed precision pays on tensor cores: compute capability 7.0 (Volta) and newer.
_MIXED_MIN_CAPABILITY = 7.0
_MIB = 1024 * 1024


@dataclass(frozen=True)
class Gpu:
    """One GPU, or one MIG instance of a GPU, as NVML or ``nvidia-smi`` reports it.

    ``index`` is nvidia-smi's (and NVML's) index of the physical GPU (a MIG instance has its parent's);
    ``uuid`` is ``GPU-…`` or ``MIG-…``. A worker is shown its device by UUID where one is known: CUDA
    numbers devices fastest first unless ``CUDA_DEVICE_ORDER=PCI_BUS_ID``, so nvidia-smi's index can name
    another GPU to CUDA on a mixed machine, and a MIG instance has no index at all. ``memory_used_mb`` is
    a reading at discovery time (None where the source gave none); it takes no part in comparisons.
    """

    index: int
    name: str
    memory_mb: int
    capability: float | None = None
    uuid: str | None = None
    memory_used_mb: int | None = field(default=None, compare=False)

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

    Asks NVML first (``pynvml`` importable and initialising), else reads ``nvidia-smi`` (``nvidia_smi``
    names the program and skips NVML; none on the ``PATH``: no GPU). When ``CUDA_VISIBLE_DEVICES`` is set,
    keeps the devices it names, in its order and as CUDA reads it: indices, ``GPU-`` UUIDs or unique
    prefixes of them, ``MIG-`` instance UUIDs (as schedulers set them), an empty value hiding every GPU,
    and nothing after the first entry that names no device.
    """
    found = None if nvidia_smi else _nvml_devices()
    if found is not None:
        gpus, instances = found
        return _visible(gpus, lambda: instances)
    command = nvidia_smi or shutil.which("nvidia-smi")
    if command is None:
        return []
    query = "--query-gpu=index,uuid,name,memory.total,compute_cap,memory.used"
    out = _ask(command, query, "--format=csv,noheader,nounits")
    gpus = []
    for line in (out or "").strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4 or not parts[0].isdigit():
            continue
        capability = _number(parts[4]) if len(parts) > 4 else None
        used = _number(parts[5]) if len(parts) > 5 else None
        gpus.append(
            Gpu(
                int(parts[0]),
                parts[2],
                int(_number(parts[3]) or 0),
                capability,
                uuid=parts[1],
                memory_used_mb=None if used is None else int(used),
            )
        )
    return _visible(gpus, lambda: _mig_instances(command, gpus))


def gpu_process_memory(nvidia_smi: str | None = None) -> dict[int, int] | None:
    """MiB of GPU memory each compute process holds now, by process id, summed over the machine's GPUs
    (``CUDA_VISIBLE_DEVICES`` does not apply: it is about other processes). NVML first, else
    ``nvidia-smi --query-compute-apps``; None when neither answers. In a container the ids may be the
    host's; a process whose use the driver does not report is left out.
    """
    if not nvidia_smi:
        with _nvml() as nvml:
            if nvml is not None:
                try:
                    return _nvml_process_memory(nvml)
                except Exception:  # any failure of the bindings: ask nvidia-smi instead
                    pass
    command = nvidia_smi or shutil.which("nvidia-smi")
    if command is None:
        return None
    out = _ask(command, "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits")
    if out is None:
        return None
    used: dict[int, int] = {}
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        mib = _number(parts[1]) if len(parts) > 1 and parts[0].isdigit() else None
        if mib is not None:
            used[int(parts[0])] = used.get(int(parts[0]), 0) + int(mib)
    return used


def _visible(gpus: list[Gpu], instances: Callable[[], list[Gpu]]) -> list[Gpu]:
    """``gpus`` as ``CUDA_VISIBLE_DEVICES`` shows them (``instances``: the MIG instances, asked for when it
    names one)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return gpus
    wanted = [v.strip() for v in visible.split(",") if v.strip()]
    migs = instances() if any(w.startswith("MIG-") for w in wanted) else []
    chosen: list[Gpu] = []
    for entry in wanted:
        match = _named_by(entry, gpus, migs)
        if match is None:
            break  # CUDA ignores every entry after one that names no device
        if match not in chosen:
            chosen.append(match)
    return chosen


@contextmanager
def _nvml() -> Iterator[ModuleType | None]:
    """``pynvml``, initialised for the block; None where it is not installed or does not initialise (no
    driver, no ``libnvidia-ml``)."""
    try:
        import pynvml
    except ImportError:
        yield None
        return
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, _DriverNotLoaded, …: a machine without NVML
        yield None
        return
    try:
        yield pynvml
    finally:
        with suppress(Exception):
            pynvml.nvmlShutdown()


def _nvml_devices() -> tuple[list[Gpu], list[Gpu]] | None:
    """The GPUs and their MIG instances as NVML reports them; None without NVML or when it fails midway
    (then nvidia-smi is asked)."""
    with _nvml() as nvml:
        if nvml is None:
            return None
        try:
            gpus: list[Gpu] = []
            instances: list[Gpu] = []
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
                gpu = _nvml_gpu(nvml, handle, index, float(f"{major}.{minor}"))
                gpus.append(gpu)
                instances += [
                    _nvml_gpu(nvml, mig, index, gpu.capability) for mig in _mig_handles(nvml, handle)
                ]
            return gpus, instances
        except Exception:  # any failure of the bindings: nvidia-smi may still answer
            return None


def _nvml_gpu(nvml: Any, handle: Any, index: int, capability: float | None) -> Gpu:
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
    return Gpu(
        index,
        _text(nvml.nvmlDeviceGetName(handle)),
        int(memory.total // _MIB),
        capability,
        uuid=_text(nvml.nvmlDeviceGetUUID(handle)),
        memory_used_mb=int(memory.used // _MIB),
    )


def _mig_handles(nvml: Any, handle: Any) -> list[Any]:
    """The MIG instances of a GPU in MIG mode (none on a GPU without MIG support)."""
    try:
        current, _pending = nvml.nvmlDeviceGetMigMode(handle)
    except nvml.NVMLError:  # NotSupported: a GPU without MIG
        return []
    if current != getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1):
        return []
    handles = []
    for slot in range(nvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
        try:
            handles.append(nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot))
        except nvml.NVMLError:  # NotFound: an empty slot
            continue
    return handles


def _nvml_process_memory(nvml: Any) -> dict[int, int]:
    seen: dict[tuple[int, str], int] = {}
    for index in range(nvml.nvmlDeviceGetCount()):
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        for device in [handle, *_mig_handles(nvml, handle)]:
            uuid = _text(nvml.nvmlDeviceGetUUID(device))
            for process in nvml.nvmlDeviceGetComputeRunningProcesses(device):
                if process.usedGpuMemory is not None:  # None: not reported (WDDM, no permission)
                    seen[(process.pid, uuid)] = int(process.usedGpuMemory // _MIB)
    used: dict[int, int] = {}
    for (pid, _uuid), mib in seen.items():
        used[pid] = used.get(pid, 0) + mib
    return used


def _text(value: str | bytes) -> str:
    """Old ``pynvml`` releases return bytes."""
    return value.decode() if isinstance(value, bytes) else value


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
