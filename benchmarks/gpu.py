"""The GPU check: trials per minute on this machine's NVIDIA GPUs, in one table, in at most 8 minutes.

Two workloads: *small* (digits, the ``compact`` space: per-step overhead, the GPU under-used) and *large*
(60,000 Fashion-MNIST-shaped 28×28 images, the ``cnn`` space at LARGE_EPOCHS epochs a trial). Cases:

* small at 1, 2 and 4 trials per GPU on one GPU (target: more trials/min than 1 per GPU);
* large in float32 and in mixed precision on one GPU (target: mixed faster; only on compute capability 7+);
* with N > 1 GPUs, each workload on all of them (target: ≥ 0.85·N × its one-GPU case).

Each case is a fresh seeded search (Optuna random sampling, no pruning, no warm start, one validation
split), so trials cost the same whichever worker runs them. trials/min counts the trials that ended on
their own (not the ones the deadline cut short) over the whole wall clock, start-up included, as a user
waits for it. *peak MB/worker* is the largest GPU memory any one worker process held: NVML's per-process
reading (nvidia-smi's where the bindings are absent), sampled every SAMPLE_SECONDS by this parent process.
Sampling from outside works across processes with no change to the workers, and it sees what a worker
really takes from the GPU (CUDA context, cuDNN workspaces and TensorFlow's pool) where TensorFlow's own
``get_memory_info('GPU:0')['peak']`` sees only its tensors and would have to be reported back by every
worker; TensorFlow's allocator never hands memory back, so a sampled process's use only grows and a
1-second sample misses little. Where the driver lists no processes (a container without the host's process
ids), the GPU's own used memory, split over its workers, stands in, marked ``~``.

Without a GPU it says so in one line and exits 0. The planning part (which cases, each one's time budget)
is pure and tested in CI against a fake nvidia-smi; ``--plan`` prints it without measuring.

On a machine without TensorFlow, ``--keras-backend jax`` (or ``torch``) runs every case on that backend.

Usage: python benchmarks/gpu.py [--minutes 8] [--seed 0] [--keras-backend jax] [--plan]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from automl.exceptions import UserError
from automl.keras_backend import use_keras_backend
from automl.workers import Gpu, discover_gpus
from automl.workers._discovery import gpu_process_memory

NO_GPU = "no NVIDIA GPU found (nvidia-smi/NVML): nothing to measure"

# ---------------------------------------------------------------------------------------------- planning

#: seconds outside the cases: imports, making the large data set, the table.
SETUP_SECONDS = 30.0
#: the share of the budget kept back for what the estimates below miss.
MARGIN = 0.05
#: seconds a case takes beyond its budget: the running trials stop at the deadline, workers exit.
CASE_OVERHEAD_SECONDS = 10.0
#: below this a case is mostly worker start-up (TensorFlow and CUDA, ~10 s) and measures nothing.
MIN_CASE_SECONDS = 30.0
#: a large trial is longer, so its cases get more of the time to finish several.
WEIGHTS = {"small": 1.0, "large": 1.5}
LARGE_EPOCHS = 2
SCALING_TARGET = 0.85


@dataclass(frozen=True)
class Target:
    """What a case's ratio to its baseline should reach: ``≥ ratio``, or ``> ratio`` when ``strict``."""

    ratio: float
    strict: bool = False

    def met(self, ratio: float) -> bool:
        return ratio > self.ratio if self.strict else ratio >= self.ratio

    def __str__(self) -> str:
        return f"{'>' if self.strict else '≥'} {self.ratio:.2f}"


@dataclass(frozen=True)
class Case:
    """One search to time. ``baseline`` names the case its ratio is against (None: it is a baseline)."""

    name: str
    workload: str
    gpus: int
    trials_per_gpu: int
    precision: str
    seconds: float
    baseline: str | None = None
    target: Target | None = None

    @property
    def workers(self) -> int:
        return self.gpus * self.trials_per_gpu

    def devices(self) -> dict[str, Any]:
        """``devices=`` of :class:`automl.AutoMLSearch` (CLI: ``--gpus --trials-per-gpu --precision``)."""
        return {"gpus": self.gpus, "trials_per_gpu": self.trials_per_gpu, "precision": self.precision}


@dataclass(frozen=True)
class Plan:
    gpus: tuple[Gpu, ...]
    cases: tuple[Case, ...]
    notes: tuple[str, ...] = ()

    @property
    def estimated_seconds(self) -> float:
        return SETUP_SECONDS + sum(c.seconds + CASE_OVERHEAD_SECONDS for c in self.cases)


def plan(gpus: list[Gpu], *, minutes: float = 8.0) -> Plan:
    """The cases to run on ``gpus`` (as :func:`automl.workers.discover_gpus` finds them), each with its
    share of ``minutes``. Raises ValueError when ``minutes`` leaves a case under MIN_CASE_SECONDS."""
    if not gpus:
        raise ValueError(NO_GPU)
    n, first = len(gpus), gpus[0]
    # (name, workload, GPUs, trials per GPU, precision, baseline, target)
    rows: list[tuple[str, str, int, int, str, str | None, Target | None]] = [
        ("small 1/GPU", "small", 1, 1, "float32", None, None),
        ("small 2/GPU", "small", 1, 2, "float32", "small 1/GPU", Target(1.0, strict=True)),
        ("small 4/GPU", "small", 1, 4, "float32", "small 1/GPU", Target(1.0, strict=True)),
    ]
    if n > 1:
        rows.append((f"small {n} GPUs", "small", n, 1, "float32", "small 1/GPU", Target(SCALING_TARGET * n)))
    rows.append(("large float32", "large", 1, 1, "float32", None, None))
    notes = []
    if first.supports_mixed:
        rows.append(("large mixed", "large", 1, 1, "mixed", "large float32", Target(1.0, strict=True)))
    else:
        notes.append(
            f"large mixed: skipped, GPU {first.index} ({first.name}) has compute capability "
            f"{first.capability} (mixed precision needs 7.0)"
        )
    if n > 1:
        mixed = all(g.supports_mixed for g in gpus)
        precision, baseline = ("mixed", "large mixed") if mixed else ("float32", "large float32")
        rows.append((f"large {n} GPUs", "large", n, 1, precision, baseline, Target(SCALING_TARGET * n)))
    weights = sum(WEIGHTS[row[1]] for row in rows)
    fixed = SETUP_SECONDS + CASE_OVERHEAD_SECONDS * len(rows)
    spare = minutes * 60 * (1 - MARGIN) - fixed
    if spare / weights * min(WEIGHTS.values()) < MIN_CASE_SECONDS:
        needed = (fixed + weights * MIN_CASE_SECONDS) / (1 - MARGIN) / 60
        raise ValueError(
            f"{minutes:g} minutes is too short for {len(rows)} cases; give at least {needed:.1f}"
        )
    cases = tuple(
        Case(name, work, count, k, precision, spare * WEIGHTS[work] // weights, baseline, target)
        for name, work, count, k, precision, baseline, target in rows
    )
    return Plan(tuple(gpus), cases, tuple(notes))


def rebudget(cases: tuple[Case, ...], seconds_left: float) -> tuple[Case, ...]:
    """The cases still to run, their budgets cut in proportion where the earlier ones overran, so the
    whole still ends within ``seconds_left`` (no case below MIN_CASE_SECONDS)."""
    planned = sum(c.seconds for c in cases)
    room = seconds_left - CASE_OVERHEAD_SECONDS * len(cases)
    if not cases or room >= planned:
        return cases
    scale = max(room, 0.0) / planned
    return tuple(replace(c, seconds=max(c.seconds * scale // 1, MIN_CASE_SECONDS)) for c in cases)


def describe(plan: Plan) -> str:
    """The plan in lines: the GPUs, then each case with its budget and target."""
    lines = [_machine(plan.gpus)]
    for c in plan.cases:
        against = f"{c.target} × {c.baseline}" if c.target else "baseline"
        gpus = f"{c.gpus} GPU{'s' if c.gpus > 1 else ''} × {c.trials_per_gpu}/GPU"
        lines.append(f"  {c.name:<16} {gpus:<14} {c.precision:<8} {c.seconds:>4.0f} s   {against}")
    lines += [f"  {note}" for note in plan.notes]
    lines.append(f"  about {plan.estimated_seconds / 60:.1f} min in all")
    return "\n".join(lines)


def _machine(gpus: tuple[Gpu, ...]) -> str:
    """``2 × NVIDIA H100 80GB HBM3 (81559 MiB, compute 9.0)``, each kind of GPU in the order found."""
    kinds: dict[tuple[str, int, float | None], int] = {}
    for g in gpus:
        kinds[(g.name, g.memory_mb, g.capability)] = kinds.get((g.name, g.memory_mb, g.capability), 0) + 1
    return " + ".join(
        f"{count} × {name} ({memory} MiB, compute {capability})"
        for (name, memory, capability), count in kinds.items()
    )


@dataclass(frozen=True)
class Measurement:
    """What one case measured: trials that ended on their own, the wall clock, the worst worker's peak
    GPU memory (``estimated``: from the GPU's used memory, the driver listing no processes)."""

    trials: int
    seconds: float
    peak_mb: int | None
    estimated: bool = False
    #: the failure kind of each failed trial (the deadline's and interruptions left out)
    failures: tuple[str, ...] = ()

    @property
    def per_minute(self) -> float:
        return self.trials / self.seconds * 60 if self.seconds else 0.0


def render(
    plan: Plan, measured: dict[str, Measurement], *, seconds: float | None = None, backend: str | None = None
) -> str:
    """The table: one row per measured case (case, GPUs, workers, trials, trials/min, ratio vs its
    baseline, target and whether it is met, peak MB per worker), then the notes."""
    head = f"{'case':<16}{'GPUs':>5}{'workers':>8}{'trials':>7}{'trials/min':>11}{'ratio':>7}  {'target':<10}"
    title = f"GPU check · {_machine(plan.gpus)}" + (f" · Keras backend {backend}" if backend else "")
    lines = [title, head + f"{'peak MB/worker':>15}"]
    notes = list(plan.notes)
    for c in plan.cases:
        if c.name not in measured:
            continue
        m = measured[c.name]
        base = measured.get(c.baseline or c.name)
        ratio = m.per_minute / base.per_minute if base and base.per_minute else float("nan")
        target = "baseline" if c.target is None else f"{c.target} {'✓' if c.target.met(ratio) else '✗'}"
        peak = "—" if m.peak_mb is None else f"{'~' if m.estimated else ''}{m.peak_mb}"
        lines.append(
            f"{c.name:<16}{c.gpus:>5}{c.workers:>8}{m.trials:>7}{m.per_minute:>11.1f}{ratio:>7.2f}  "
            f"{target:<10}{peak:>15}"
        )
        if m.failures:
            kinds = ", ".join(f"{kind} ×{m.failures.count(kind)}" for kind in sorted(set(m.failures)))
            notes.append(f"{c.name}: {len(m.failures)} trials failed ({kinds})")
    against: dict[str, list[str]] = {}
    for c in plan.cases:
        if c.baseline and c.name in measured:
            against.setdefault(c.baseline, []).append(c.name)
    if against:
        groups = "; ".join(f"{base} ← {', '.join(names)}" for base, names in against.items())
        notes.append(f"ratio: trials/min over the baseline's: {groups}")
    if seconds is not None:
        notes.append(f"measured in {seconds / 60:.1f} min")
    return "\n".join(lines + notes)


# --------------------------------------------------------------------------------------------- measuring

SAMPLE_SECONDS = 1.0


class MemoryPeaks:
    """Samples each new process's GPU memory (and each GPU's used memory) in a thread while it is open."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.by_process: dict[int, int] = {}
        self.by_gpu: dict[str, int] = {}

    def __enter__(self) -> MemoryPeaks:
        self._before = set(gpu_process_memory() or {})
        self._used_before = {g.visible_id: g.memory_used_mb or 0 for g in discover_gpus()}
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for pid, mib in (gpu_process_memory() or {}).items():
                if pid not in self._before:
                    self.by_process[pid] = max(self.by_process.get(pid, 0), mib)
            for g in discover_gpus():
                grown = (g.memory_used_mb or 0) - self._used_before.get(g.visible_id, 0)
                self.by_gpu[g.visible_id] = max(self.by_gpu.get(g.visible_id, 0), grown)

    def per_worker(self, case: Case) -> tuple[int | None, bool]:
        """The largest worker's peak MiB, and whether it is an estimate from the GPUs' used memory."""
        if self.by_process:
            return max(self.by_process.values()), False
        if self.by_gpu:
            return max(self.by_gpu.values()) // case.trials_per_gpu, True
        return None, False


def large_data(seed: int = 0) -> tuple[Any, Any]:
    """60,000 Fashion-MNIST-shaped images ``(60000, 28, 28)`` uint8 with labels 0-9: each class a template
    of soft blobs, each image its template shifted a little, dimmed and noised (learnable, not trivial)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    grid = np.mgrid[0:28, 0:28].astype(np.float32)
    templates = np.zeros((10, 28, 28), dtype=np.float32)
    for k in range(10):
        for _ in range(4):
            cy, cx = rng.uniform(6, 22, size=2)
            sy, sx = rng.uniform(1.5, 5.0, size=2)
            templates[k] += np.exp(-(((grid[0] - cy) / sy) ** 2) - ((grid[1] - cx) / sx) ** 2)
    templates = np.clip(templates, 0.0, 1.0)
    y = rng.permutation(np.arange(60_000) % 10)
    x = np.empty((60_000, 28, 28), dtype=np.uint8)
    for start in range(0, 60_000, 10_000):
        rows = slice(start, start + 10_000)
        block = np.roll(templates[y[rows]], tuple(rng.integers(-2, 3, size=2)), axis=(1, 2))
        block *= rng.uniform(0.55, 1.0, size=(10_000, 1, 1)).astype(np.float32)
        block += rng.normal(0.0, 0.35, size=block.shape).astype(np.float32)
        x[rows] = np.clip(block * 255, 0, 255).astype(np.uint8)
    return x, y.astype(np.int64)


def measure(case: Case, data: Any, folder: str, seed: int) -> Measurement:
    """One seeded search of ``case.seconds`` on ``data`` (a dataset name or ``(x, y)``)."""
    import automl
    from automl.outcomes import FailureKind, StopReason
    from automl.space import SearchSpace, load_space

    space: Any = "compact"
    if case.workload == "large":
        spec = load_space("cnn").to_dict()
        spec["parameters"]["epochs"] = {"type": "fixed", "value": LARGE_EPOCHS}
        space = SearchSpace.from_dict(spec)
    search = automl.AutoMLSearch(
        space=space,
        algorithm="random",
        pruner="none",
        n_trials=None,
        timeout=case.seconds,
        cv=0,
        devices=case.devices(),
        run_dir=f"{folder}/{case.name.replace(' ', '-').replace('/', '-')}",
        seed=seed,
        warm_start="none",
    )
    with MemoryPeaks() as peaks:
        started = time.perf_counter()
        search.fit(data)
        wall = time.perf_counter() - started
    done = [r for r in search.trials_ if r.state.finished and r.stopped_by != StopReason.BUDGET]
    ends = {FailureKind.BUDGET, FailureKind.INTERRUPTED}
    failures = tuple(str(r.failure_kind) for r in search.trials_ if r.failure_kind not in (None, *ends))
    peak, estimated = peaks.per_worker(case)
    return Measurement(len(done), wall, peak, estimated, failures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=8.0, help="the whole check's budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plan", action="store_true", help="print the cases and their budgets; measure none")
    parser.add_argument("--keras-backend", default=None, help="tensorflow (default), jax or torch")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    gpus = discover_gpus()
    if not gpus:
        print(NO_GPU)
        return 0
    try:
        cases = plan(gpus, minutes=args.minutes)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    print(describe(cases), flush=True)
    if args.plan:
        return 0
    try:
        backend = use_keras_backend(args.keras_backend)
    except UserError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Keras backend: {backend}", flush=True)
    data = {"small": "digits", "large": large_data(args.seed)}
    measured: dict[str, Measurement] = {}
    budget = args.minutes * 60 * (1 - MARGIN)
    with tempfile.TemporaryDirectory() as folder:
        for i in range(len(cases.cases)):
            left = rebudget(cases.cases[i:], budget - (time.perf_counter() - started))
            case = left[0]
            measured[case.name] = measure(case, data[case.workload], folder, args.seed)
            m = measured[case.name]
            print(
                f"  {case.name}: {m.trials} trials in {m.seconds:.0f} s ({case.seconds:.0f} s budget)",
                flush=True,
            )
    print(render(cases, measured, seconds=time.perf_counter() - started, backend=backend))
    return 0


if __name__ == "__main__":
    sys.exit(main())
