"""examples/cluster: the Kubernetes manifests hold valid `automl` commands wired to their Service, Secret
and ConfigMap; the Slurm array script runs on one machine as task 0 (`automl search`) and task 1
(`automl worker`) against one study, through run_local.sh, as a user would simulate it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "examples" / "cluster"
SCRIPTS = [CLUSTER / "slurm_array.sh", CLUSTER / "run_local.sh"]

SPACE = """\
version: 1
name: small
family: mlp
parameters:
  units: {type: int, low: 8, high: 32, log: true}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
  epochs: {type: fixed, value: 1}
  patience: {type: fixed, value: 1}
"""


# --- kubernetes.yaml -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((CLUSTER / "kubernetes.yaml").read_text()) if doc]


def _named(manifests: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name!r}"
    return found[0]


def _containers(job: dict[str, Any]) -> list[dict[str, Any]]:
    pod = job["spec"]["template"]["spec"]
    return [*pod.get("initContainers", []), *pod["containers"]]


def _environment(container: dict[str, Any], manifests: list[dict[str, Any]]) -> dict[str, str]:
    """The container's variables, each ConfigMap and Secret reference resolved (and checked to exist)."""
    env = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = str(var["value"])
            continue
        source = var["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            data = _named(manifests, "ConfigMap", ref["name"])["data"]
        else:
            ref = source["secretKeyRef"]
            data = _named(manifests, "Secret", ref["name"])["stringData"]
        assert ref["key"] in data, f"{var['name']}: no key {ref['key']!r} in {ref['name']!r}"
        env[var["name"]] = str(data[ref["key"]])
    return env


def _source(container: dict[str, Any], name: str) -> dict[str, Any]:
    """Where the container's variable ``name`` comes from (its ``valueFrom``)."""
    (var,) = [var for var in container.get("env", []) if var["name"] == name]
    return var["valueFrom"]


def _expand(arg: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) substitution in command and args."""

    def value(match: re.Match[str]) -> str:
        assert match.group(1) in env, f"$({match.group(1)}) is not in the container's env"
        return env[match.group(1)]

    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", value, arg)


def _parse(argv: list[str]) -> dict[str, Any]:
    """The parameters of `automl ARGV` as the command line reads them; invalid flags or values raise."""
    from typer.main import get_command

    from automl.cli import app

    command = get_command(app).commands[argv[0]]  # type: ignore[attr-defined]
    with command.make_context(f"automl {argv[0]}", list(argv[1:])) as context:
        return dict(context.params)


def test_kubernetes_yaml_holds_the_expected_objects(manifests):
    for m in manifests:
        assert m.get("apiVersion") and m.get("kind") and m.get("metadata", {}).get("name"), m
    kinds = sorted((m["kind"], m["metadata"]["name"]) for m in manifests)
    assert kinds == [
        ("ConfigMap", "automl-search"),
        ("Deployment", "automl-postgres"),
        ("Job", "automl-search"),
        ("Job", "automl-workers"),
        ("Secret", "automl-postgres"),
        ("Service", "automl-postgres"),
    ]
    postgres = _named(manifests, "Deployment", "automl-postgres")
    service = _named(manifests, "Service", "automl-postgres")
    labels = postgres["spec"]["template"]["metadata"]["labels"]
    assert postgres["spec"]["selector"]["matchLabels"] == labels
    assert service["spec"]["selector"].items() <= labels.items()

    workers = _named(manifests, "Job", "automl-workers")["spec"]
    assert workers["parallelism"] == workers["completions"] >= 2


def test_kubernetes_containers_run_valid_automl_commands_on_the_service_and_secret(manifests):
    from automl import load_space
    from automl.store import study_name

    service = _named(manifests, "Service", "automl-postgres")
    (server,) = _named(manifests, "Deployment", "automl-postgres")["spec"]["template"]["spec"]["containers"]
    server_env = _environment(server, manifests)
    secret = _source(server, "POSTGRES_PASSWORD")

    commands = {}
    for job in ("automl-search", "automl-workers"):
        for container in _containers(_named(manifests, "Job", job)):
            env = _environment(container, manifests)
            # The password reaches automl from the Secret the server uses, never in the URL.
            assert _source(container, "PGPASSWORD") == secret
            url = make_url(env["AUTOML_STORAGE_URL"])
            assert url.password is None
            assert url.host == service["metadata"]["name"]
            assert url.port == service["spec"]["ports"][0]["port"]
            assert (url.username, url.database) == (server_env["POSTGRES_USER"], server_env["POSTGRES_DB"])
            if container["command"] == ["automl"]:
                argv = [_expand(arg, env) for arg in container["args"]]
                commands[argv[0]] = (_parse(argv), container, env)
            else:  # the wait loops: a shell around `automl worker --storage` (run in the next test)
                assert (
                    container["command"] == ["sh", "-c"] and "automl worker --storage" in container["args"][0]
                )

    search, chief, _ = commands["search"]
    worker, pod, env = commands["worker"]
    # The worker names the study the search creates: RUN/DATASET/SPACE/BACKEND-ALGORITHM.
    expected = study_name(
        search["name"],
        search["dataset"],
        load_space(search["space"]).name,
        search["backend"],
        search["algorithm"],
    )
    assert worker["study"] == env["AUTOML_STUDY"] == expected
    assert worker["storage"] == search["storage"]
    # One GPU per pod, every GPU the pod sees used.
    for params, container in ((search, chief), (worker, pod)):
        assert params["gpus"] == "all"
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1


def test_kubernetes_wait_loops_pass_once_the_storage_answers_and_the_study_exists(manifests, tmp_path):
    """The init containers' shell loops, run here against SQLite: the server check passes on an empty
    storage; the study check keeps waiting there, and passes once the study exists."""
    search_job, workers_job = (_named(manifests, "Job", name) for name in ("automl-search", "automl-workers"))
    (wait_server,) = search_job["spec"]["template"]["spec"]["initContainers"]
    (wait_study,) = workers_job["spec"]["template"]["spec"]["initContainers"]
    env = _environment(wait_study, manifests)
    url = f"sqlite:///{tmp_path / 'automl.db'}"
    environ = {
        **os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AUTOML_STORAGE_URL": url, "AUTOML_STUDY": env["AUTOML_STUDY"],
    }  # fmt: skip

    def loop(container: dict[str, Any], timeout: float) -> int | None:
        try:
            return subprocess.run(
                [*container["command"], *container["args"]], env=environ, cwd=tmp_path, timeout=timeout,
                capture_output=True,
            ).returncode  # fmt: skip
        except subprocess.TimeoutExpired:
            return None

    assert loop(wait_server, timeout=60) == 0
    assert loop(wait_study, timeout=5) is None  # still waiting: no study yet (a listing takes ~2 s)

    optuna.create_study(storage=url, study_name=env["AUTOML_STUDY"])  # not yet an automl study ...
    assert loop(wait_study, timeout=8) == 0  # ... but listed: the worker then joins (or says why not)


# --- slurm_array.sh, through run_local.sh ----------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_cluster_scripts_are_valid_bash(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert os.access(script, os.X_OK), f"{script.name} is not executable"


def _simulate(tmp_path: Path, url: str, trials: int, **env: str) -> tuple[str, str]:
    """Run slurm_array.sh as tasks 0 and 1 through run_local.sh: a ``trials``-trial search of iris.

    Returns the study's name and everything the tasks printed.
    """
    from automl.store import study_name

    space = tmp_path / "small.yaml"
    space.write_text(SPACE)
    environ = {
        **os.environ, **env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AUTOML_RUN": "sim", "AUTOML_DATASET": "iris", "AUTOML_SPACE": str(space),
        "AUTOML_TRIALS": str(trials), "AUTOML_SEARCH_ARGS": "--no-report --quiet",
    }  # fmt: skip
    done = subprocess.run(
        ["bash", str(CLUSTER / "run_local.sh"), url, str(tmp_path / "sim")], env=environ, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    out = (
        done.stdout
        + done.stderr
        + "".join(p.read_text() for p in sorted((tmp_path / "sim").glob("task*.out")))
    )
    assert done.returncode == 0, out[-5000:]
    return study_name("sim", "iris", "small", "optuna", "tpe"), out


def _check_study(tmp_path: Path, url: str, name: str, trials: int) -> list[optuna.trial.FrozenTrial]:
    """The study holds ``trials`` finished trials; task 0 searched in its folder, and task 1 joined the
    study from its own and finished its share, leaving at most its workers' logs there."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    finished = [t for t in optuna.load_study(study_name=name, storage=url).trials if t.state in states]
    assert len(finished) >= trials
    sim = tmp_path / "sim"
    assert (sim / "task0" / "runs" / "sim" / "leaderboard.csv").is_file()
    joined = (sim / "task1.out").read_text()
    assert f"task 1: joining study {name}" in joined
    assert f"study {name}: this machine's share is done" in " ".join(joined.split())
    assert {p.name for p in (sim / "task1").iterdir()} <= {"automl-worker-logs"}
    return finished


@pytest.mark.slow  # 26 s: a search and a joined worker, both as subprocesses
def test_the_slurm_array_runs_locally_as_a_search_and_a_joined_worker(tmp_path):
    """Four trials: task 0 may finish them before task 1's worker process has started (TensorFlow's
    import alone takes ~6 s here), so this checks that both complete, not who trained."""
    url = f"sqlite:///{tmp_path / 'automl.db'}"
    name, _ = _simulate(tmp_path, url, trials=4)
    _check_study(tmp_path, url, name, trials=4)


@pytest.mark.slow  # about 60 s on 2 cores
def test_the_joined_slurm_task_trains_its_share(tmp_path):
    """Enough trials that task 1's worker, 15-25 s behind task 0 on 2 busy cores, runs some of them."""
    url = f"sqlite:///{tmp_path / 'automl.db'}"
    name, _ = _simulate(tmp_path, url, trials=16)
    finished = _check_study(tmp_path, url, name, trials=16)
    assert len({t.user_attrs["worker"] for t in finished}) >= 2, "task 1 ran no trial"
    log = tmp_path / "sim" / "task1" / "automl-worker-logs" / "task1" / "w0.log"
    assert "complete score=" in log.read_text() or "pruned score=" in log.read_text()


@pytest.mark.slow  # test_join covers joining over PostgreSQL in the default suite
@pytest.mark.postgres
def test_the_slurm_array_runs_on_postgres_with_the_password_in_pgpassword(tmp_path, postgres_url):
    """The URL names no password: both tasks (and every worker process) log in with PGPASSWORD, and
    the password is nowhere in what they print, log or record."""
    server = make_url(postgres_url)
    password = str(server.password)
    url = f"{server.drivername}://{server.username}@{server.host}:{server.port}/{server.database}"
    assert password not in url
    name, out = _simulate(tmp_path, url, trials=4, PGPASSWORD=password)
    _check_study(tmp_path, postgres_url, name, trials=4)
    manifest = optuna.load_study(study_name=name, storage=postgres_url).user_attrs["automl.manifest"]
    assert manifest["storage"] == url  # as given: `automl retrain` and `report` reopen it with PGPASSWORD
    files = "".join(p.read_text(errors="replace") for p in (tmp_path / "sim").rglob("*") if p.is_file())
    assert password not in out + files + str(manifest)
