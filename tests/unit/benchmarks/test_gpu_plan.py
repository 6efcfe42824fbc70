"""benchmarks/gpu.py without a GPU: its plan for the GPUs a fake nvidia-smi (or a fake NVML) reports, the
budgets that keep it within 8 minutes, its table from hand-made measurements, and the one line it prints
and exit 0 on a machine without a GPU."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from automl.workers import discover_gpus, parse_devices, plan_slots

ROOT = Path(__file__).parents[3]


def _load(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


gpu = _load("gpu_benchmark", ROOT / "benchmarks" / "gpu.py")
fakes = _load("gpu_fakes", ROOT / "tests" / "unit" / "workers" / "gpu_fakes.py")


@pytest.fixture
def two_gpus(tmp_path, monkeypatch):
    """The fake nvidia-smi of the device tests (an A100 and a P100) first on PATH, NVML's bindings hidden."""
    monkeypatch.setenv("PATH", fakes.path_with(fakes.write_nvidia_smi(tmp_path / "bin")))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", None)


def _rows(plan) -> list[tuple]:
    return [(c.name, c.gpus, c.trials_per_gpu, c.precision, c.baseline, str(c.target)) for c in plan.cases]


def test_two_gpus_plan_one_against_both_per_workload(two_gpus):
    plan = gpu.plan(discover_gpus())
    assert _rows(plan) == [
        ("small 1/GPU", 1, 1, "float32", None, "None"),
        ("small 2/GPU", 1, 2, "float32", "small 1/GPU", "> 1.00"),
        ("small 4/GPU", 1, 4, "float32", "small 1/GPU", "> 1.00"),
        ("small 2 GPUs", 2, 1, "float32", "small 1/GPU", "≥ 1.70"),
        ("large float32", 1, 1, "float32", None, "None"),
        ("large mixed", 1, 1, "mixed", "large float32", "> 1.00"),
        # The P100 has no tensor cores: both GPUs together run float32, against float32 on one.
        ("large 2 GPUs", 2, 1, "float32", "large float32", "≥ 1.70"),
    ]
    assert plan.estimated_seconds <= 8 * 60
    assert all(c.seconds >= gpu.MIN_CASE_SECONDS for c in plan.cases)
    large = min(c.seconds for c in plan.cases if c.workload == "large")
    assert large > max(c.seconds for c in plan.cases if c.workload == "small")
    # Each case asks the library for exactly its workers, on the GPUs it names.
    for case in plan.cases:
        slots = plan_slots(parse_devices(case.devices()))
        assert len(slots) == case.workers
        assert {s.precision for s in slots} == {"mixed_float16" if case.precision == "mixed" else "float32"}


def test_one_gpu_plans_no_scaling_and_mixed_only_with_tensor_cores(two_gpus, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    names = [c.name for c in gpu.plan(discover_gpus()).cases]
    assert names == ["small 1/GPU", "small 2/GPU", "small 4/GPU", "large float32", "large mixed"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    plan = gpu.plan(discover_gpus())
    assert [c.name for c in plan.cases] == ["small 1/GPU", "small 2/GPU", "small 4/GPU", "large float32"]
    assert plan.notes == (
        "large mixed: skipped, GPU 1 (Tesla P100-PCIE-16GB) has compute capability 6.0 "
        "(mixed precision needs 7.0)",
    )
    # Fewer cases, longer ones, within the same 8 minutes.
    assert plan.cases[0].seconds > 60 and plan.estimated_seconds <= 8 * 60


def test_gpus_found_through_nvml_plan_mixed_on_all_of_them(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi: NVML alone answers
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    h100 = [
        fakes.FakeDevice("NVIDIA H100 80GB HBM3", f"GPU-{i}0000000", 81559, capability=(9, 0))
        for i in range(4)
    ]
    monkeypatch.setitem(sys.modules, "pynvml", fakes.fake_pynvml(h100))
    plan = gpu.plan(discover_gpus())
    last = plan.cases[-1]
    assert (last.name, last.gpus, last.precision, last.baseline, str(last.target)) == (
        "large 4 GPUs", 4, "mixed", "large mixed", "≥ 3.40"
    )  # fmt: skip
    assert gpu.describe(plan).splitlines()[0] == "4 × NVIDIA H100 80GB HBM3 (81559 MiB, compute 9.0)"


def test_a_budget_too_short_says_how_long_is_enough(two_gpus):
    with pytest.raises(ValueError, match=r"^4 minutes is too short for 7 cases; give at least 6\.\d$"):
        gpu.plan(discover_gpus(), minutes=4)
    assert (
        gpu.plan(discover_gpus(), minutes=20).cases[0].seconds
        > 2 * gpu.plan(discover_gpus()).cases[0].seconds
    )


def test_cases_after_an_overrun_get_less_time(two_gpus):
    cases = gpu.plan(discover_gpus()).cases[3:]
    assert gpu.rebudget(cases, 1e6) == cases
    planned = sum(c.seconds + gpu.CASE_OVERHEAD_SECONDS for c in cases)
    cut = gpu.rebudget(cases, planned - 40)
    assert sum(c.seconds + gpu.CASE_OVERHEAD_SECONDS for c in cut) <= planned - 40
    assert [c.name for c in cut] == [c.name for c in cases]
    assert all(c.seconds == gpu.MIN_CASE_SECONDS for c in gpu.rebudget(cases, 0))


def test_the_table_has_one_row_per_case(two_gpus):
    plan = gpu.plan(discover_gpus())
    M = gpu.Measurement
    measured = {
        "small 1/GPU": M(10, 60.0, 612),
        "small 2/GPU": M(18, 60.0, 598),
        "small 4/GPU": M(9, 60.0, 590, failures=("out_of_memory", "out_of_memory", "error")),
        "large float32": M(6, 60.0, 1890, estimated=True),
    }
    table = gpu.render(plan, measured, seconds=150)
    assert table.splitlines()[1:] == [
        "case             GPUs workers trials trials/min  ratio  target     peak MB/worker",
        "small 1/GPU         1       1     10       10.0   1.00  baseline              612",
        "small 2/GPU         1       2     18       18.0   1.80  > 1.00 ✓              598",
        "small 4/GPU         1       4      9        9.0   0.90  > 1.00 ✗              590",
        "large float32       1       1      6        6.0   1.00  baseline            ~1890",
        "small 4/GPU: 3 trials failed (error ×1, out_of_memory ×2)",
        "ratio: trials/min over the baseline's: small 1/GPU ← small 2/GPU, small 4/GPU",
        "measured in 2.5 min",
    ]


def _script(*arguments: str, path: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The benchmark as a user runs it, with ``path`` as PATH and NVML's bindings hidden."""
    hidden = tmp_path / "no_nvml"
    hidden.mkdir(exist_ok=True)
    (hidden / "pynvml.py").write_text("raise ImportError('hidden by the test')\n")
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(hidden)}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    script = ROOT / "benchmarks" / "gpu.py"
    return subprocess.run(
        [sys.executable, str(script), *arguments], capture_output=True, text=True, env=env, timeout=60
    )


def test_without_a_gpu_it_says_so_in_one_line_and_exits_0(tmp_path):
    out = _script(path=str(tmp_path), tmp_path=tmp_path)
    assert (out.returncode, out.stdout, out.stderr) == (0, gpu.NO_GPU + "\n", "")
    assert out.stdout == "no NVIDIA GPU found (nvidia-smi/NVML): nothing to measure\n"


def test_the_plan_alone_runs_against_the_fake_nvidia_smi(tmp_path):
    folder = fakes.write_nvidia_smi(tmp_path / "bin")
    out = _script("--plan", path=fakes.path_with(folder), tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("1 × NVIDIA A100-SXM4-40GB (40960 MiB, compute 8.0) + 1 × Tesla P100")
    assert "  large 2 GPUs     2 GPUs × 1/GPU float32" in out.stdout
    assert lines[-1].startswith("  about 7.") and lines[-1].endswith(" min in all")
