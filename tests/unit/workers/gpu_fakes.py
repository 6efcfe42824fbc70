"""Stand-ins for GPU hardware we do not have: an `nvidia-smi` script and a `pynvml` module object.

Both report the same two GPUs by default (an A100 and a P100, as tests/unit/workers/test_devices.py does),
so a test can tell which source answered by what differs: NVML's memory is in bytes (and the fake's names
carry no trace of nvidia-smi), nvidia-smi's in MiB.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace

A100 = "GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77"
P100 = "GPU-9a1c33e0-7f52-11ee-b962-0242ac120002"
MIG_A, MIG_B = "MIG-c6d4f1ef-42e4-5de3-91c7-45d71585b4a4", "MIG-0e8f3a52-9c1d-5b7e-8a34-6f2d1c0b9e87"
MIB = 1024 * 1024

# `nvidia-smi --query-gpu=index,uuid,name,memory.total,compute_cap,memory.used --format=csv,noheader,nounits`
TWO_GPUS = (
    f"0, {A100}, NVIDIA A100-SXM4-40GB, 40960, 8.0, 1200\n1, {P100}, Tesla P100-PCIE-16GB, 16384, 6.0, 3\n"
)
# `nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits`
APPS = "4242, 1100\n4243, [N/A]\n"


def write_nvidia_smi(folder: Path, gpus: str = TWO_GPUS, apps: str = APPS) -> Path:
    """An `nvidia-smi` in ``folder`` answering the GPU and compute-app queries; returns the folder, to put
    first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(
        '#!/bin/sh\ncase "$1" in\n'
        f"  --query-compute-apps*) cat <<'EOF'\n{apps}EOF\n;;\n"
        f"  *) cat <<'EOF'\n{gpus}EOF\n;;\nesac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def path_with(folder: Path) -> str:
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@dataclass
class FakeDevice:
    """One GPU (or MIG instance) as the fake NVML reports it."""

    name: str
    uuid: str
    total_mib: int
    used_mib: int = 0
    capability: tuple[int, int] = (8, 0)
    #: None: the GPU does not support MIG (nvmlDeviceGetMigMode raises NotSupported)
    migs: list[FakeDevice] | None = None
    #: (pid, MiB or None where the driver does not say) of each compute process on it
    processes: list[tuple[int, int | None]] = field(default_factory=list)


def two_devices() -> list[FakeDevice]:
    return [
        FakeDevice("NVIDIA A100-SXM4-40GB", A100, 40536, 1200, (8, 0), migs=[], processes=[(4242, 1100)]),
        FakeDevice("Tesla P100-PCIE-16GB", P100, 16280, 3, (6, 0)),
    ]


class NVMLError(Exception):
    pass


def fake_pynvml(
    devices: list[FakeDevice] | None = None, *, init_fails: bool = False, broken: str | None = None
) -> ModuleType:
    """A `pynvml` module object over ``devices`` (default :func:`two_devices`).

    ``init_fails``: nvmlInit raises as it does without a driver. ``broken``: the name of a function that
    raises NVMLError (a failure midway). ``module.calls`` counts nvmlInit / nvmlShutdown.
    """
    devices = two_devices() if devices is None else devices
    module = ModuleType("pynvml")
    module.NVMLError = NVMLError  # type: ignore[attr-defined]
    module.NVML_DEVICE_MIG_ENABLE = 1  # type: ignore[attr-defined]
    calls = {"nvmlInit": 0, "nvmlShutdown": 0}
    module.calls = calls  # type: ignore[attr-defined]

    def init() -> None:
        calls["nvmlInit"] += 1
        if init_fails:
            raise NVMLError("NVML Shared Library Not Found")

    def shutdown() -> None:
        calls["nvmlShutdown"] += 1

    def mig_mode(device: FakeDevice) -> list[int]:
        if device.migs is None:
            raise NVMLError("Not Supported")
        return [1 if device.migs else 0, 0]

    def mig_handle(device: FakeDevice, slot: int) -> FakeDevice:
        if device.migs is None or slot >= len(device.migs):
            raise NVMLError("Not Found")
        return device.migs[slot]

    functions = {
        "nvmlInit": init,
        "nvmlShutdown": shutdown,
        "nvmlDeviceGetCount": lambda: len(devices),
        "nvmlDeviceGetHandleByIndex": lambda i: devices[i],
        "nvmlDeviceGetName": lambda d: d.name,
        "nvmlDeviceGetUUID": lambda d: d.uuid.encode(),  # bytes, as older releases return
        "nvmlDeviceGetCudaComputeCapability": lambda d: d.capability,
        "nvmlDeviceGetMemoryInfo": lambda d: SimpleNamespace(
            total=d.total_mib * MIB, used=d.used_mib * MIB, free=(d.total_mib - d.used_mib) * MIB
        ),
        "nvmlDeviceGetMigMode": mig_mode,
        "nvmlDeviceGetMaxMigDeviceCount": lambda d: 7,
        "nvmlDeviceGetMigDeviceHandleByIndex": mig_handle,
        "nvmlDeviceGetComputeRunningProcesses": lambda d: [
            SimpleNamespace(pid=pid, usedGpuMemory=None if mib is None else mib * MIB)
            for pid, mib in d.processes
        ],
    }
    for name, function in functions.items():
        if name == broken:

            def fail(*_args: object, _name: str = name) -> None:
                raise NVMLError(f"{_name}: GPU is lost")

            function = fail
        setattr(module, name, function)
    return module
