"""Device slots: GPU discovery through a fake nvidia-smi, the slots each request makes, what each worker
is given (environment and TensorFlow settings), and one clear line for every contradiction."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from automl.exceptions import UserError
from automl.workers import Gpu, Slot, discover_gpus, in_process, parse_devices, plan_slots, short_search

A100 = "GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77"
P100 = "GPU-9a1c33e0-7f52-11ee-b962-0242ac120002"
MIG_A, MIG_B = "MIG-c6d4f1ef-42e4-5de3-91c7-45d71585b4a4", "MIG-0e8f3a52-9c1d-5b7e-8a34-6f2d1c0b9e87"
# What `nvidia-smi --query-gpu=index,uuid,name,memory.total,compute_cap --format=csv,noheader,nounits`
# prints, then what `nvidia-smi -L` prints when GPU 0 is split into two MIG instances.
TWO_GPUS = f"0, {A100}, NVIDIA A100-SXM4-40GB, 40960, 8.0\n1, {P100}, Tesla P100-PCIE-16GB, 16384, 6.0\n"
LISTING = (
    f"GPU 0: NVIDIA A100-SXM4-40GB (UUID: {A100})\n"
    f"  MIG 3g.20gb     Device  0: (UUID: {MIG_A})\n"
    f"  MIG 2g.10gb     Device  1: (UUID: {MIG_B})\n"
    f"GPU 1: Tesla P100-PCIE-16GB (UUID: {P100})\n"
)


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    """Put an `nvidia-smi` that reports two GPUs first on PATH (and hide NVML's bindings, which a GPU
    machine with the `gpu` extra would answer from first)."""
    monkeypatch.setitem(sys.modules, "pynvml", None)
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "nvidia-smi"
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = "-L" ]; then\ncat <<\'EOF\'\n{LISTING}EOF\n'
        f"else\ncat <<'EOF'\n{TWO_GPUS}EOF\nfi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return script


def test_gpus_are_discovered_from_nvidia_smi_without_tensorflow(fake_nvidia_smi):
    gpus = discover_gpus()
    assert gpus == [
        Gpu(0, "NVIDIA A100-SXM4-40GB", 40960, 8.0, uuid=A100),
        Gpu(1, "Tesla P100-PCIE-16GB", 16384, 6.0, uuid=P100),
    ]
    assert [g.supports_mixed for g in gpus] == [True, False]
    probe = "import sys, automl.workers as w; w.discover_gpus(); print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cuda_visible_devices_limits_the_gpus(fake_nvidia_smi, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert [g.index for g in discover_gpus()] == [1]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert discover_gpus() == []


@pytest.mark.parametrize(
    ("visible", "expected"),
    [
        ("1,0", [1, 0]),  # CUDA's order, not nvidia-smi's
        (P100, [1]),  # a full UUID, as Slurm and Kubernetes device plugins set it
        ("GPU-5d5b", [0]),  # a unique prefix of one
        (f"{A100}, 1", [0, 1]),
        ("GPU-", []),  # a prefix of both names neither
        ("0,7,1", [0]),  # CUDA ignores every entry after one that names no device
    ],
)
def test_cuda_visible_devices_by_index_or_uuid(fake_nvidia_smi, monkeypatch, visible, expected):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert [g.index for g in discover_gpus()] == expected


def test_each_worker_is_shown_its_gpu_by_uuid(fake_nvidia_smi):
    slots = plan_slots(parse_devices("all"))
    assert [s.environment()["CUDA_VISIBLE_DEVICES"] for s in slots] == [A100, P100]


def test_mig_instances_get_one_worker_each(fake_nvidia_smi, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"{MIG_B},{MIG_A}")
    gpus = discover_gpus()
    assert [(g.index, g.uuid, g.memory_mb, g.capability) for g in gpus] == [
        (0, MIG_B, 10 * 1024, 8.0),
        (0, MIG_A, 20 * 1024, 8.0),
    ]
    assert gpus[0].name == "NVIDIA A100-SXM4-40GB MIG 2g.10gb"
    slots = plan_slots(parse_devices("auto"))
    assert [s.environment()["CUDA_VISIBLE_DEVICES"] for s in slots] == [MIG_B, MIG_A]
    assert [s.device for s in slots] == ["gpu:0/MIG-0e8f3a52", "gpu:0/MIG-c6d4f1ef"]
    assert [s.precision for s in slots] == ["mixed_float16"] * 2
    # gpu_ids names physical GPUs: GPU 0 brings both of its instances.
    assert len(plan_slots(parse_devices({"gpu_ids": [0]}))) == 2


def test_no_nvidia_smi_means_no_gpu(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "pynvml", None)  # NVML would answer on a GPU machine
    assert discover_gpus() == []


def test_every_gpu_gets_one_worker_with_its_own_device(fake_nvidia_smi):
    slots = plan_slots(parse_devices("all"))
    assert [s.device for s in slots] == ["gpu:0", "gpu:1"]
    assert [s.environment()["CUDA_VISIBLE_DEVICES"] for s in slots] == [A100, P100]
    assert all(s.environment()["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for s in slots)
    # Mixed precision where tensor cores make it pay (compute capability 7.0+), float32 elsewhere.
    assert [s.precision for s in slots] == ["mixed_float16", "float32"]
    assert [s.memory_limit_mb for s in slots] == [None, None]
    # With GPUs and nothing asked, every GPU is used.
    assert [s.device for s in plan_slots(parse_devices("auto"))] == ["gpu:0", "gpu:1"]


def test_several_trials_per_gpu_split_its_memory(fake_nvidia_smi):
    slots = plan_slots(parse_devices({"gpu_ids": "1", "trials_per_gpu": 3}))
    assert [s.device for s in slots] == ["gpu:1"] * 3 and [s.index for s in slots] == [0, 1, 2]
    assert {s.memory_limit_mb for s in slots} == {int(16384 * 0.9 / 3)}


def test_a_gpu_count_takes_the_first_ones(fake_nvidia_smi):
    assert [s.device for s in plan_slots(parse_devices({"gpus": 1}))] == ["gpu:0"]


@pytest.mark.parametrize(
    ("devices", "message"),
    [
        ({"gpu_ids": [3]}, "`gpu_ids`: no GPU 3 on this machine; it has 0, 1"),
        ({"gpus": 4}, "`gpus` asks for 4 GPUs, but this machine has 2"),
        ({"gpus": "all", "workers": 2}, "`workers` makes CPU slots and `gpus` / `gpu_ids` GPU slots"),
        ({"gpus": 1, "gpu_ids": [0]}, "give either `gpus` (all or a count) or `gpu_ids`"),
        ({"gpu_ids": [0, 0]}, "`gpu_ids` lists a GPU twice"),
        ({"gpus": "all", "trials_per_gpu": 0}, "`trials_per_gpu` must be at least 1, but got 0"),
        ({"gpu_ids": [1], "precision": "mixed"}, "`precision` mixed needs compute capability 7.0 or more"),
        ({"gpus": "all", "precision": "half"}, "`precision` takes auto, float32 or mixed, not 'half'"),
        ({"gpus": "some"}, "`gpus` takes a number or 'all', not 'some'"),
        ({"cores": 2}, "unknown `devices` key 'cores'"),
    ],
)
def test_contradictions_and_bad_gpus_are_one_line(fake_nvidia_smi, devices, message):
    with pytest.raises(UserError) as info:
        plan_slots(parse_devices(devices))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cpu_machine(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "pynvml", None)  # NVML would answer on a GPU machine
    with pytest.raises(UserError, match="`gpus` asks for GPUs, but this machine shows none"):
        plan_slots(parse_devices("all"))
    with pytest.raises(UserError, match="`workers` must be at least 1, but got 0"):
        plan_slots(parse_devices(0))
    with pytest.raises(UserError, match="`workers` takes a number or 'auto', not 'two'"):
        plan_slots(parse_devices({"workers": "two"}))
    with pytest.raises(UserError, match="`trials_per_gpu` needs GPUs"):
        plan_slots(parse_devices({"trials_per_gpu": 2}))
    # auto: one single-threaded worker per core, unless the search is too short to pay for them.
    slots = plan_slots(parse_devices("auto"), cpu_count=2)
    assert [(s.device, s.threads) for s in slots] == [("cpu", 1), ("cpu", 1)] and not in_process(slots)
    assert in_process(plan_slots(parse_devices("auto"), cpu_count=2, short=True))
    assert in_process(plan_slots(parse_devices("auto"), cpu_count=1))
    # An explicit count is kept whatever the budget; threads share the cores.
    assert [s.threads for s in plan_slots(parse_devices(2), cpu_count=8, short=True)] == [4, 4]
    assert [s.threads for s in plan_slots(parse_devices({"workers": 3}), cpu_count=2)] == [1, 1, 1]
    env = slots[0].environment()
    assert env["CUDA_VISIBLE_DEVICES"] == "" and env["TF_NUM_INTRAOP_THREADS"] == "1"
    assert env["OMP_NUM_THREADS"] == "1" and env["TF_NUM_INTEROP_THREADS"] == "1"


def test_short_budgets():
    assert short_search(5, None) and short_search(None, 30) and short_search(100, 30)
    assert not short_search(20, None) and not short_search(None, 180) and not short_search(None, None)


def test_a_slot_round_trips_through_the_worker_spec():
    slot = Slot(2, gpu=Gpu(1, "GPU", 1000, 7.5), threads=None, memory_limit_mb=400, precision="mixed_float16")
    assert Slot.from_dict(json.loads(json.dumps(slot.to_dict()))) == slot


def test_a_cpu_worker_pins_its_threads_and_prints_no_cuda_error(tmp_path):
    """What the supervisor gives a CPU worker: its environment, then TensorFlow set up from its slot."""
    slot = Slot(0, threads=1)
    probe = (
        "import json, sys\n"
        "from automl.workers import Slot\n"
        "from automl.workers._worker import configure\n"
        "device = configure(Slot.from_dict(json.loads(sys.argv[1])))\n"
        "import tensorflow as tf, keras\n"
        "print(json.dumps([device, tf.config.threading.get_intra_op_parallelism_threads(),\n"
        "    tf.config.threading.get_inter_op_parallelism_threads(), keras.mixed_precision.global_policy().name]))\n"
    )
    env = {**os.environ, **slot.environment()}
    out = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(slot.to_dict())], capture_output=True, text=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["cpu", 1, 1, "float32"]
    assert "cuInit" not in out.stderr and "CUDA" not in out.stderr


def test_a_gpu_worker_is_shown_only_its_gpu(fake_nvidia_smi):
    slots = plan_slots(parse_devices({"gpu_ids": [1], "trials_per_gpu": 2}))
    probe = "import os; print(os.environ['CUDA_VISIBLE_DEVICES'], os.environ['AUTOML_SLOT'])"
    seen = [
        subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, **s.environment()},
            capture_output=True,
            text=True,
        ).stdout.split()
        for s in slots
    ]
    assert seen == [[P100, "0"], [P100, "1"]]
    assert Path(fake_nvidia_smi).exists()


def test_worker_processes_need_a_backend_that_can_share_its_search():
    from types import SimpleNamespace

    from automl.exceptions import UserError
    from automl.workers import check_backend_fits, parse_devices, plan_slots

    alone = SimpleNamespace(name="mine", spec=SimpleNamespace(runs_on_workers=False))
    check_backend_fits(alone, plan_slots(parse_devices(1)))
    with pytest.raises(UserError) as info:
        check_backend_fits(alone, plan_slots(parse_devices(2)))
    assert str(info.value) == (
        "2 worker processes need a backend that shares its search between processes; the mine backend "
        "searches in one process: set `workers` to 1"
    )
