"""GPU discovery through NVIDIA's bindings (a fake `pynvml` module object stands in for the hardware):
what NVML reports, CUDA_VISIBLE_DEVICES read as through nvidia-smi, the order of the sources (NVML when it
imports and initialises, else nvidia-smi, else no GPU) and each process's GPU memory."""

from __future__ import annotations

import sys

import pytest
from gpu_fakes import A100, MIG_A, MIG_B, P100, FakeDevice, fake_pynvml, path_with, write_nvidia_smi

from automl.workers import Gpu, discover_gpus, parse_devices, plan_slots
from automl.workers._discovery import gpu_process_memory


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A fake nvidia-smi first on PATH, no CUDA_VISIBLE_DEVICES; returns a function installing a pynvml."""
    monkeypatch.setenv("PATH", path_with(write_nvidia_smi(tmp_path / "bin")))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def install(module):
        monkeypatch.setitem(sys.modules, "pynvml", module)
        return module

    install(None)  # not installed, until a test installs one
    return install


def test_nvml_reports_names_memory_uuids_and_indexes(machine):
    nvml = machine(fake_pynvml())
    gpus = discover_gpus()
    assert gpus == [
        Gpu(0, "NVIDIA A100-SXM4-40GB", 40536, 8.0, uuid=A100),
        Gpu(1, "Tesla P100-PCIE-16GB", 16280, 6.0, uuid=P100),
    ]
    assert [g.memory_used_mb for g in gpus] == [1200, 3]
    assert [g.supports_mixed for g in gpus] == [True, False]
    assert nvml.calls == {"nvmlInit": 1, "nvmlShutdown": 1}
    # The same GPUs make the same slots whichever source found them.
    assert [s.environment()["CUDA_VISIBLE_DEVICES"] for s in plan_slots(parse_devices("all"))] == [A100, P100]


@pytest.mark.parametrize(
    ("visible", "expected"),
    [("1,0", [1, 0]), (P100, [1]), ("GPU-5d5b", [0]), ("0,7,1", [0]), ("", [])],
)
def test_nvml_honours_cuda_visible_devices_as_nvidia_smi_does(machine, monkeypatch, visible, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    machine(fake_pynvml())
    through_nvml = [g.index for g in discover_gpus()]
    machine(None)
    assert through_nvml == [g.index for g in discover_gpus()] == expected


def test_nvml_lists_mig_instances(machine, monkeypatch):
    instances = [
        FakeDevice("NVIDIA A100-SXM4-40GB MIG 3g.20gb", MIG_A, 19968),
        FakeDevice("NVIDIA A100-SXM4-40GB MIG 2g.10gb", MIG_B, 9728),
    ]
    machine(fake_pynvml([FakeDevice("NVIDIA A100-SXM4-40GB", A100, 40536, migs=instances)]))
    assert [g.uuid for g in discover_gpus()] == [A100]  # without CUDA_VISIBLE_DEVICES: the GPU
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"{MIG_B},{MIG_A}")
    gpus = discover_gpus()
    assert [(g.index, g.uuid, g.memory_mb, g.capability, g.is_mig) for g in gpus] == [
        (0, MIG_B, 9728, 8.0, True),
        (0, MIG_A, 19968, 8.0, True),
    ]
    assert gpus[0].name == "NVIDIA A100-SXM4-40GB MIG 2g.10gb"


@pytest.mark.parametrize(
    ("options", "source"),
    [
        ({}, "nvml"),
        (None, "nvidia-smi"),  # bindings not installed
        ({"init_fails": True}, "nvidia-smi"),  # installed, no driver library
        ({"broken": "nvmlDeviceGetName"}, "nvidia-smi"),  # failing midway
    ],
)
def test_nvml_first_then_nvidia_smi(machine, options, source):
    nvml = machine(None if options is None else fake_pynvml(**options))
    totals = {40536: "nvml", 40960: "nvidia-smi"}  # NVML's MiB from bytes; nvidia-smi's own figure
    assert totals[discover_gpus()[0].memory_mb] == source
    if nvml is not None:  # what was initialised is shut down
        initialised = 0 if options.get("init_fails") else 1
        assert nvml.calls == {"nvmlInit": 1, "nvmlShutdown": initialised}


def test_an_nvidia_smi_named_skips_nvml(machine, tmp_path):
    machine(fake_pynvml())
    smi = write_nvidia_smi(tmp_path / "other") / "nvidia-smi"
    assert discover_gpus(str(smi))[0].memory_mb == 40960


def test_neither_source_means_no_gpu(machine, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert discover_gpus() == []
    assert gpu_process_memory() is None
    machine(fake_pynvml(init_fails=True))
    assert discover_gpus() == []
    assert gpu_process_memory() is None


def test_process_memory_from_nvml_then_nvidia_smi(machine):
    devices = [
        FakeDevice("NVIDIA H100", A100, 81559, processes=[(10, 500), (11, None)]),
        FakeDevice("NVIDIA H100", P100, 81559, processes=[(10, 300), (12, 700)]),
    ]
    machine(fake_pynvml(devices))
    # MiB by process, summed over GPUs; a process the driver gives no figure for is left out.
    assert gpu_process_memory() == {10: 800, 12: 700}
    machine(fake_pynvml(init_fails=True))
    assert gpu_process_memory() == {4242: 1100}  # nvidia-smi's [N/A] is left out too
