"""Start-up cost of the CLI and of `import automl`, as ratios to a bare `python -c pass` in the same run.

Usage: python benchmarks/startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def seconds(command: list[str], repeat: int) -> float:
    """Median wall time of ``command`` over ``repeat`` runs (after one warm-up run for the file cache)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    python = sys.executable
    cli = shutil.which("automl")
    cases = {
        "python -c pass": [python, "-c", "pass"],
        "import automl": [python, "-c", "import automl"],
        "automl --help": [cli, "--help"] if cli else [python, "-m", "automl", "--help"],
        "automl spaces show mlp": [
            cli or python,
            *([] if cli else ["-m", "automl"]),
            "spaces",
            "show",
            "mlp",
        ],
        "import tensorflow (for scale)": [python, "-c", "import tensorflow"],
    }
    base = None
    print(f"{'command':34s} {'seconds':>8s} {'ratio to python -c pass':>24s}")
    for name, command in cases.items():
        t = seconds(command, args.repeat)
        base = base or t
        print(f"{name:34s} {t:8.3f} {t / base:24.2f}")


if __name__ == "__main__":
    main()
