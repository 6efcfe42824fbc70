"""Regenerate docs/report.png, the README's picture of a report, from a real small run.

    python docs/make_report_screenshot.py            # about a minute on 2 CPU cores

Runs a search on the wine dataset (compact space), retrains the best model, writes the run's report and
photographs its top in headless Chromium (Debian's ``chromium`` and ``chromium-driver``; ``pip install
-e ".[dev]"`` brings selenium). The run goes to a temporary folder; only the picture is kept.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMEDRIVER = "/usr/bin/chromedriver"


def automl(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "automl", *args], check=True)


def photograph(page: Path, out: Path, *, width: int, height: int) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     f"--window-size={width},{height}", "--host-resolver-rules=MAP * ~NOTFOUND"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(page.as_uri())
        body = driver.find_element("tag name", "body")
        expected = body.get_attribute("data-plots-expected")
        deadline = time.monotonic() + 60
        while body.get_attribute("data-plots-ready") != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        # the first dataset's search plots, below the summary and the leaderboard
        driver.execute_script("document.querySelector('header').style.position = 'static';")
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=HERE / "report.png")
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "wine-compact"
        automl("search", "--dataset", "wine", "--space", "compact", "--trials", str(args.trials),
               "--run-dir", str(run), "--quiet", "--no-report")  # fmt: skip
        automl("retrain", str(run), "--top", "2")  # writes report.html
        photograph(run / "report.html", args.output, width=args.width, height=args.height)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
