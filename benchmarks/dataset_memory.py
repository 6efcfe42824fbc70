"""Memory of workers holding a dataset of real size: the proportional set size (PSS) of 1 and of 2 workers.

PSS (``/proc/PID/smaps_rollup``) charges each process its private pages plus its share of the pages it
maps with others, so the PSS of N workers adds up to what they cost the machine together. Two sets of the
classics' shapes, generated offline (:mod:`automl.datasets._synthetic`):

* ``fashion``: 60,000 + 10,000 uint8 images 28x28 (48,000 fit / 12,000 validation / 10,000 test rows);
* ``imdb``: 25,000 + 25,000 reviews multi-hot over 10,000 words (20,000 / 5,000 / 25,000 rows).

Each worker is a fresh process that imports TensorFlow, loads the dataset the way a worker of a search
does, and then trains ``--epochs`` epochs of a small MLP with ``automl.train``:

* ``before``: the Dataset as automl held it until now: float32 arrays (images divided by 255, multi-hot
  rows as 0.0 / 1.0), written with ``joblib.dump`` by the search and read whole by each worker
  (``joblib.load``);
* ``after``: compact arrays (uint8) written once by ``share_dataset`` and memory-mapped read-only by each
  worker (``open_shared``), as the search's workers now do.

* ``empty``: the reference, a worker that imports TensorFlow and loads no dataset (TensorFlow's libraries
  are shared too, so one worker's PSS falls when a second one starts).

Prints, per set and way, the PSS of the workers together and each (MB) once loaded and read through
(a memory map costs only the pages read), and the highest total
seen while they train (sampled every 0.2 s; it includes TensorFlow's own copy of the fit rows, compact).

Usage: python benchmarks/dataset_memory.py [--sets fashion,imdb] [--workers 1,2] [--epochs 1]
       [--ways empty,before,after]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CONFIGS = {
    "fashion": {"family": "mlp", "depth": 2, "units": 128, "batch_size": 128},
    "imdb": {"family": "mlp", "depth": 2, "units": 16, "batch_size": 512},
}


def pss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make(name: str) -> Any:
    from automl.datasets._synthetic import fashion_like_dataset, imdb_like_dataset

    return fashion_like_dataset() if name == "fashion" else imdb_like_dataset()


def write_files(name: str, folder: Path) -> dict[str, Path]:
    """The dataset file of each way, written once (as the search writes it once for its workers)."""
    import joblib

    from automl.datasets._shared import share_dataset

    dataset = make(name)
    files = {"after": share_dataset(dataset, folder / f"{name}-after.joblib")}
    old = dataset.with_float_inputs()
    files["before"] = folder / f"{name}-before.joblib"
    joblib.dump(old, files["before"])
    return files


def child(way: str, name: str, file: str, epochs: int) -> None:
    """One worker: load, say so, wait; train, say so, wait; then leave."""
    import joblib

    import automl
    from automl import _keras
    from automl.datasets._shared import open_shared

    _keras.configure_process(threads=1)
    if way == "empty":
        print("loaded", flush=True)
        sys.stdin.readline()
        print("fitted", flush=True)
        sys.stdin.readline()
        return
    dataset = open_shared(file) if way == "after" else joblib.load(file)
    for x in (dataset.x_train, dataset.x_val, dataset.x_test):
        int(x.sum(dtype="int64"))  # read every row once, as the first epoch and validation do
    print("loaded", flush=True)
    sys.stdin.readline()
    config = {**CONFIGS[name], "epochs": epochs, "patience": epochs + 1}
    automl.train(config, dataset)
    print("fitted", flush=True)
    sys.stdin.readline()


def measure(way: str, name: str, file: Path, workers: int, epochs: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", way, name, str(file), str(epochs)]
    procs = [
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "loaded"
        loaded = [pss_mb(proc.pid) for proc in procs]
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("fit\n")
            proc.stdin.flush()
        peak = 0.0
        import selectors

        selector = selectors.DefaultSelector()
        for proc in procs:
            selector.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        done = 0
        while done < workers:
            peak = max(peak, sum(pss_mb(proc.pid) for proc in procs))
            for key, _ in selector.select(timeout=0.2):
                key.fileobj.readline()  # type: ignore[union-attr]
                selector.unregister(key.fileobj)
                done += 1
        return {"loaded": loaded, "peak_total": peak}
    finally:
        for proc in procs:
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.write("quit\n")
                proc.stdin.close()
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", default="fashion,imdb")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--ways", default="empty,before,after")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        way, name, file, epochs = args.child
        child(way, name, file, int(epochs))
        return

    counts = [int(n) for n in args.workers.split(",")]
    rows = []
    ways = args.ways.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "empty" in ways:
            for n in counts:
                seen = measure("empty", "-", Path(tmp), n, args.epochs)
                rows.append({"set": "-", "way": "empty", "workers": n, **seen})
                each = " + ".join(f"{mb:.0f}" for mb in seen["loaded"])
                print(f"no dataset, {n} worker(s): PSS {sum(seen['loaded']):6.0f} MB ({each})", flush=True)
        for name in [] if ways == ["empty"] else args.sets.split(","):
            files = write_files(name, Path(tmp))
            sizes = {way: path.stat().st_size / 2**20 for way, path in files.items()}
            print(f"{name}: dataset file {sizes['before']:.0f} MB before, {sizes['after']:.0f} MB after")
            for way in [w for w in ("before", "after") if w in ways]:
                for n in counts:
                    seen = measure(way, name, files[way], n, args.epochs)
                    rows.append({"set": name, "way": way, "workers": n, **seen})
                    each = " + ".join(f"{mb:.0f}" for mb in seen["loaded"])
                    print(f"  {way:6s} {n} worker(s): PSS loaded {sum(seen['loaded']):6.0f} MB ({each}), "
                          f"peak while training {seen['peak_total']:6.0f} MB", flush=True)  # fmt: skip
    print("RESULT " + json.dumps(rows))


if __name__ == "__main__":
    main()
