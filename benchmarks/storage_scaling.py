"""How many worker processes one study serves: trials per second and storage writes per trial.

K worker processes (K = 1, 2, 4, 8, 16 by default) search one study through the real engine (Optuna backend,
random sampler, the run's default 60 s heartbeat) with the stub trainer, which trains nothing: each trial is
only the engine's and the storage's work, so trials/s is the most one study can record. Each worker counts
the INSERT, UPDATE and DELETE statements its storage engine sends (a SQLAlchemy ``before_cursor_execute``
listener: trials, parameters, per-epoch values, attributes, heartbeats, states), and the counts of all
workers are summed. Runs on a SQLite file and, when a URL is given (``--postgres`` or
``AUTOML_TEST_POSTGRES_URL``; ``. .ci/postgres.sh`` starts a server), on PostgreSQL.

The workers all start (imports, dataset) before the clock starts; trials/s is finished trials over the wall
time from the go signal until the last worker exits. All K processes share this machine's cores, so at large
K the figure is bounded by the CPU here as much as by the database.

From the figures: a study whose storage records R trials/s serves about R · T GPU workers whose trials take
T seconds each, before the storage becomes the bottleneck (``--trial-seconds`` prints that estimate). On a
local PostgreSQL server the CPU its processes spend per trial is measured too (``server CPU ms``, from
/proc): it bounds what one server core can record, whatever the clients' speed. It grows with K, because
every worker re-reads the study's running trials whenever it refreshes its view of the study.

Usage: python benchmarks/storage_scaling.py [--workers 1,2,4,8,16] [--trials 240] [--epochs 20]
           [--pruner none|median] [--postgres URL] [--storages sqlite,postgresql] [--repeat 1]
           [--trial-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, cast

STUDY = "bench/iris/stub/optuna-random"


# ------------------------------------------------------------------------------------------ one worker
def worker(url: str, study_name: str, trials: int, epochs: int, pruner: str, go: Path) -> None:
    """Search ``study_name`` until it holds ``trials`` finished trials; print the writes it sent as JSON."""
    from sqlalchemy import event

    # run_session imports automl._keras (TensorFlow, ~6 s and ~0.7 GB a process) even when given a device;
    # the stub trains nothing, so a stand-in lets 16 workers start on a small machine.
    sys.modules["automl._keras"] = types.SimpleNamespace(configure_process=lambda: "stub")  # type: ignore[assignment]
    from automl.backends import get_backend
    from automl.datasets import load_dataset
    from automl.engine import Budget, open_study, run_session
    from automl.store import open_storage
    from automl.testing import StubTrainer

    space = _space(epochs)
    dataset = load_dataset("iris", seed=0)
    backend = get_backend("optuna")(algorithm="random", pruner=pruner, seed=os.getpid())
    storage = open_storage(url)
    study, info = open_study(
        storage, study_name, space=space, dataset=dataset, metric="accuracy", direction="maximize",
        backend=backend, seed=0, resume=True, local=False, prepare=False,
    )  # fmt: skip
    writes: Counter[str] = Counter()
    reads: Counter[str] = Counter()

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        words = statement.split(None, 3)
        verb = words[0].upper() if words else ""
        if verb in ("INSERT", "UPDATE", "DELETE"):
            table = words[2] if verb in ("INSERT", "DELETE") else words[1]
            writes[f"{verb} {table.strip(chr(34))}"] += 1
        elif verb == "SELECT":
            reads["SELECT"] += 1

    event.listen(cast(Any, storage).engine, "before_cursor_execute", count)
    trainer = StubTrainer()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    started, cpu = time.perf_counter(), time.process_time()
    run_session(
        backend, study, info, space, dataset, Budget(trials=trials), seed=0, trainer=trainer, device="stub"
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    report = {
        "writes": dict(writes),
        "reads": reads["SELECT"],
        "cpu": cpu,
        "trials": len(trainer.calls),
        "seconds": seconds,
    }
    print(json.dumps(report), flush=True)


def _space(epochs: int) -> Any:
    """The searched space: three parameters, as a small real space; ``epochs`` reports per trial."""
    from automl.space import Choice, Fixed, Float, SearchSpace

    return SearchSpace(
        name="stub",
        family="mlp",
        parameters=[
            Float("dropout", 0.0, 0.9),
            Float("learning_rate", 1e-5, 1e-1, log=True),
            Choice("batch_size", (16, 32, 64)),
            Fixed("epochs", epochs),
        ],
    )


def _server_cpu() -> float | None:
    """CPU seconds used so far by this machine's PostgreSQL processes (exited backends count in their
    parent's cutime/cstime); None where /proc cannot tell (another OS, a remote server)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    found = False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        if name != "postgres":
            continue
        fields = text[text.rindex(")") + 2 :].split()
        total += sum(int(v) for v in fields[11:15]) / ticks  # utime stime cutime cstime
        found = True
    return total if found else None


# ------------------------------------------------------------------------------------------ one measurement
def measure(url: str, k: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    from automl.backends import get_backend
    from automl.datasets import load_dataset
    from automl.engine import open_study
    from automl.store import TrialState, load_records, open_storage

    name = f"{STUDY}/k{k}-{uuid.uuid4().hex[:6]}"
    storage = open_storage(url)
    # The parent creates schema and study before any worker starts (concurrent creation races).
    open_study(
        storage, name, space=_space(args.epochs),
        dataset=load_dataset("iris", seed=0), metric="accuracy", direction="maximize",
        backend=get_backend("optuna")(algorithm="random", pruner=args.pruner, seed=0), seed=0,
        resume=False, local=False,
    )  # fmt: skip
    go = folder / f"go-{k}-{uuid.uuid4().hex[:6]}"
    command = [
        sys.executable,
        __file__,
        "--worker",
        url,
        name,
        str(args.trials),
        str(args.epochs),
        args.pruner,
    ]
    processes = [
        subprocess.Popen([*command, str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(k)
    ]
    for process in processes:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        if line.strip() != "ready":
            raise SystemExit(f"a worker did not start: {line}{process.stderr.read()[-2000:]}")
    local = url.startswith("postgresql") and any(h in url for h in ("@127.0.0.1", "@localhost", "@[::1]"))
    server = _server_cpu() if local else None
    go.touch()
    started = time.perf_counter()
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=1800)
        if process.returncode != 0:
            raise SystemExit(f"a worker failed:\n{err[-3000:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - started
    after = _server_cpu() if server is not None else None
    records = load_records(storage, name)
    server_ms = None if after is None or server is None else 1000 * (after - server) / max(len(records), 1)
    finished = sum(r.state.finished for r in records)
    writes: Counter[str] = Counter()
    for report in reports:
        writes.update(report["writes"])
    assert all(r.state is not TrialState.RUNNING for r in records)
    return {
        "finished": finished,
        "recorded": len(records),
        "per_second": finished / wall,
        "writes_per_trial": sum(writes.values()) / max(len(records), 1),
        "reads_per_trial": sum(r.get("reads", 0) for r in reports) / max(len(records), 1),
        "worker_ms": 1000 * sum(r.get("cpu", 0.0) for r in reports) / max(len(records), 1),
        "server_ms": server_ms,
        "by_statement": {key: value / max(len(records), 1) for key, value in writes.most_common()},
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        url, name, trials, epochs, pruner, go = sys.argv[2:8]
        worker(url, name, int(trials), int(epochs), pruner, Path(go))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2,4,8,16", help="comma-separated worker counts K")
    parser.add_argument("--trials", type=int, default=240, help="finished trials per measurement")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per trial (one report each)")
    parser.add_argument("--pruner", default="none", choices=("none", "median"))
    parser.add_argument("--postgres", default=os.environ.get("AUTOML_TEST_POSTGRES_URL"))
    parser.add_argument(
        "--trial-seconds", type=float, default=10.0, help="a GPU trial's length, for the estimate"
    )
    parser.add_argument("--storages", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=1, help="measure each row N times, keep the fastest")
    args = parser.parse_args()
    ks = [int(k) for k in args.workers.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        storages = {"sqlite": f"sqlite:///{folder / 'bench.db'}", "postgresql": args.postgres}
        print(
            f"stub trials of {args.epochs} epochs, optuna random, pruner {args.pruner}, "
            f"{args.trials} finished trials per row, {os.cpu_count()} cores here"
        )
        print(
            f"{'storage':<12}{'K':>4}{'finished':>10}{'recorded':>10}{'trials/s':>10}{'writes/trial':>14}"
            f"{'reads/trial':>13}{'worker CPU ms':>15}{'server CPU ms':>15}"
        )
        for kind in args.storages.split(","):
            url = storages[kind]
            if not url:
                print(f"{kind:<12} skipped: no server (give --postgres URL or set AUTOML_TEST_POSTGRES_URL)")
                continue
            best = 0.0
            for k in ks:
                row = max(
                    (measure(url, k, args, folder) for _ in range(args.repeat)), key=lambda r: r["per_second"]
                )
                best = max(best, row["per_second"])
                print(
                    f"{kind:<12}{k:>4}{row['finished']:>10.0f}{row['recorded']:>10.0f}"
                    f"{row['per_second']:>10.1f}{row['writes_per_trial']:>14.1f}{row['reads_per_trial']:>13.1f}"
                    f"{row['worker_ms']:>15.1f}"
                    + (f"{row['server_ms']:>15.1f}" if row["server_ms"] is not None else f"{'-':>15}"),
                    flush=True,
                )
                if k == ks[0]:
                    detail = ", ".join(f"{key} {value:.1f}" for key, value in row["by_statement"].items())
                    print(f"{'':<16}per trial: {detail}", flush=True)
            print(
                f"{'':<16}→ at {best:.1f} trials/s (clients and database on this machine), one {kind} "
                f"study serves ~{best * args.trial_seconds:.0f} workers whose trials take "
                f"{args.trial_seconds:.0f} s",
                flush=True,
            )
            if row["server_ms"]:
                # N workers with T-second trials send N / T trials/s, each costing the server ~server_ms
                # (measured at K = N; it grows with N, as every worker re-reads the running trials).
                print(
                    f"{'':<16}→ server CPU {row['server_ms']:.1f} ms/trial at K={ks[-1]}: one server core "
                    f"records ~{1000 / row['server_ms']:.0f} trials/s at that K",
                    flush=True,
                )


if __name__ == "__main__":
    main()
