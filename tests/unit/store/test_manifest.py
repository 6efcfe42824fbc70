"""The run manifest: round trip, run.yaml and the storage, the storage alone, old runs, refusals."""

import dataclasses
import json

import optuna
import pytest
import yaml

from automl.exceptions import UserError
from automl.report import run_leaderboards
from automl.space import load_space, shipped_spaces_dir
from automl.store import (
    MANIFEST_ATTR,
    MANIFEST_VERSION,
    BackendEntry,
    BudgetEntry,
    DatasetEntry,
    Environment,
    RetrainPolicy,
    RunDir,
    RunManifest,
    SpaceEntry,
    StudyInfo,
    TrialRecord,
    TrialState,
    manifest_from_storage,
    open_storage,
    read_manifest,
    storage_url_for,
    study_name,
    write_manifest,
)
from automl.workers import check_same_search

OWN_SPACE = """\
version: 1
name: own
family: mlp
parameters:
  depth: {type: int, low: 1, high: 3}
  units: {type: int, low: 8, high: 64, log: true, per_layer: depth}
  optimizer: {type: choice, values: [adam, sgd]}
  momentum: {type: float, low: 0.0, high: 0.9, active_if: {optimizer: [sgd]}}
  learning_rate: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
  epochs: {type: fixed, value: 3}
"""


def manifest(run="run", spaces=None, kind="experiment", datasets=("iris", "wine")):
    spaces = spaces or [load_space("tiny")]
    studies = tuple(study_name(run, d, s.name, "optuna", "tpe") for d in datasets for s in spaces)
    return RunManifest(
        kind=kind,
        name=run,
        source="/data/pair.yaml",
        datasets=tuple(
            DatasetEntry(name=d, source=d, task="multiclass", fingerprint=f"fp-{d}", split="random")
            for d in datasets
        ),
        spaces=tuple(SpaceEntry.of(s) for s in spaces),
        backend=BackendEntry("optuna", "tpe", "median", {"n_startup_trials": 3}),
        studies=studies,
        metric="accuracy",
        budget=BudgetEntry(trials=4, timeout=60.0, per="total", trials_per_study=dict.fromkeys(studies, 2)),
        devices={"workers": 1},
        seed=7,
        retrain=RetrainPolicy(top_k=2, seeds=3, epochs="best"),
        environment=Environment.current(),
    )


def info(dataset="iris", space="tiny"):
    return StudyInfo(
        dataset=dataset,
        dataset_fingerprint=f"fp-{dataset}",
        space=space,
        space_hash="h",
        task="multiclass",
        metric="accuracy",
        direction="maximize",
        backend="optuna",
        algorithm="tpe",
        baselines={"majority": 0.4},
    )


def create_studies(storage, record: RunManifest, *, with_trial=False):
    """The run's studies as open_study creates them, optionally with one finished trial each."""
    for name in record.studies:
        dataset = name.split("/")[1]
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
        for key, value in info(dataset).to_attrs().items():
            study.set_user_attr(key, value)
        if with_trial:
            trial = study.ask({"depth": optuna.distributions.IntDistribution(1, 3)})
            done = TrialRecord(0, TrialState.COMPLETE, 0.9, {"depth": 2}, config={"depth": 2}, epochs_run=2)
            for key, value in done.user_attrs().items():
                trial.set_user_attr(key, value)
            study.tell(trial, 0.9)


@pytest.fixture
def storage(tmp_path):
    return open_storage(storage_url_for(tmp_path, None), heartbeat_interval=None)


def one_line_error(call):
    with pytest.raises(UserError) as caught:
        call()
    text = str(caught.value)
    assert len(text.splitlines()) == 1, text
    return text


# ---------------------------------------------------------------------------------------- format
def test_round_trip_through_dict_json_and_yaml():
    original = manifest()
    data = original.to_dict()
    assert data["manifest_version"] == MANIFEST_VERSION == 1
    assert list(data)[:3] == ["manifest_version", "kind", "name"]
    assert RunManifest.from_dict(data) == original
    assert RunManifest.from_dict(json.loads(json.dumps(data))) == original
    assert RunManifest.from_dict(yaml.safe_load(yaml.safe_dump(data))) == original
    assert data["spaces"][0]["definition"] == load_space("tiny").to_dict()
    assert {"versions", "python", "hardware"} <= set(data["environment"])
    assert data["retrain"] == {
        "top_k": 2,
        "seeds": 3,
        "epochs": "best",
        "final_fit": False,
        "ensemble": "auto",
        "bag": "auto",
        "time_limit": "auto",
        "pick": "best",
        "rescore": 0,
        "ensemble_from": 0,
    }
    # a manifest written before `rescore` and `ensemble_from` existed reads as one without them
    newer = ("rescore", "ensemble_from")
    older = {**data, "retrain": {k: v for k, v in data["retrain"].items() if k not in newer}}
    assert RunManifest.from_dict(older) == original


def test_a_search_without_retraining_or_source_round_trips():
    search = dataclasses.replace(manifest(kind="search", datasets=("wine",)), retrain=None, source=None)
    assert RunManifest.from_dict(search.to_dict()) == search
    assert search.dataset("wine").fingerprint == "fp-wine"
    assert "it searched: wine" in one_line_error(lambda: search.dataset("iris"))


def test_the_manifest_records_the_backend_and_old_runs_read_tensorflow():
    run = dataclasses.replace(manifest(), keras_backend="jax")
    assert RunManifest.from_dict(run.to_dict()).keras_backend == "jax"
    old = run.to_dict()
    del old["keras_backend"]
    assert RunManifest.from_dict(old).keras_backend == "tensorflow"


def test_the_manifest_says_how_latencies_were_measured_and_old_runs_read_none():
    note = "in each trial's process on its device, right after training, with 2 workers searching at once"
    run = dataclasses.replace(manifest(), latency_measured=note)
    assert RunManifest.from_dict(yaml.safe_load(yaml.safe_dump(run.to_dict()))).latency_measured == note
    old = run.to_dict()
    del old["latency_measured"]
    assert RunManifest.from_dict(old).latency_measured is None


# ---------------------------------------------------------------------------------------- writing
def test_written_to_run_yaml_and_every_study_of_the_storage(tmp_path, storage):
    record = manifest()
    create_studies(storage, record)
    path = write_manifest(RunDir(tmp_path), storage, record)
    assert path == tmp_path / "run.yaml" and not list(tmp_path.glob("*.tmp"))
    assert yaml.safe_load(path.read_text())["studies"] == list(record.studies)
    assert read_manifest(tmp_path) == record
    for name in record.studies:
        study = optuna.load_study(study_name=name, storage=storage)
        assert study.user_attrs[MANIFEST_ATTR] == record.to_dict()
        assert StudyInfo.from_attrs(study.user_attrs) == info(name.split("/")[1])  # the study facts unharmed
    assert RunDir(tmp_path).is_run and RunDir.open(tmp_path).has_manifest

    # A resume writes again: the newer manifest replaces the older one in both places.
    changed = dataclasses.replace(record, seed=8)
    write_manifest(tmp_path, storage_url_for(tmp_path, None), changed)
    assert read_manifest(tmp_path).seed == 8 and manifest_from_storage(storage).seed == 8


def test_a_study_missing_from_the_storage_is_refused(tmp_path, storage):
    text = one_line_error(lambda: write_manifest(tmp_path, storage, manifest()))
    assert "no study named 'run/iris/tiny/optuna-tpe'" in text
    assert not (tmp_path / "run.yaml").exists()


# ---------------------------------------------------------------------------------------- storage alone
def test_read_back_from_a_fresh_storage_file_alone_space_included(tmp_path):
    space_file = tmp_path / "own.yaml"
    space_file.write_text(OWN_SPACE)
    space = load_space(space_file)
    record = manifest(spaces=[space, load_space("tiny")])
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    storage = open_storage(url, heartbeat_interval=None)
    create_studies(storage, record)
    write_manifest(tmp_path, storage, record)
    space_file.unlink()  # another machine has neither the space file nor the run directory
    (tmp_path / "run.yaml").unlink()

    found = manifest_from_storage(url)
    assert found == record
    assert manifest_from_storage(url, study_name=record.studies[-1]) == record
    rebuilt = found.spaces[0].space()
    assert rebuilt.content_hash == space.content_hash == found.spaces[0].hash
    assert rebuilt.name == "own" and [p.name for p in rebuilt] == [p.name for p in space]


def test_a_storage_with_several_runs_needs_a_study_name(tmp_path, storage):
    first, second = manifest("first"), manifest("second", datasets=("iris",))
    for record in (first, second):
        create_studies(storage, record)
        write_manifest(tmp_path, storage, record)
    text = one_line_error(lambda: manifest_from_storage(storage))
    assert "manifests of 2 runs" in text and "give `study_name`" in text and "first" in text
    assert manifest_from_storage(storage, study_name=second.studies[0]) == second
    assert "no study named 'nope'" in one_line_error(
        lambda: manifest_from_storage(storage, study_name="nope")
    )


def test_an_older_resume_leaves_the_current_manifest_findable(tmp_path, storage):
    # The run once searched iris and wine; a resume of iris alone rewrote iris's copy only.
    old = manifest()
    create_studies(storage, old)
    write_manifest(tmp_path, storage, old)
    newer = dataclasses.replace(manifest(datasets=("iris",)), seed=99)
    write_manifest(tmp_path, storage, newer)
    assert manifest_from_storage(storage) == newer


def test_a_storage_without_manifest_is_one_line(tmp_path, storage):
    create_studies(storage, manifest())  # as an older automl left them: study facts, no manifest
    assert "holds no automl run manifest" in one_line_error(lambda: manifest_from_storage(storage))
    text = one_line_error(lambda: manifest_from_storage(storage, study_name="run/iris/tiny/optuna-tpe"))
    assert "holds no run manifest" in text and "open its run directory" in text


# ---------------------------------------------------------------------------------------- old runs
def legacy_experiment(run="old"):
    """``experiment.yaml`` as automl wrote it before the manifest (an experiment over one dataset)."""
    tiny = load_space("tiny")
    return {
        "version": 1,
        "kind": "experiment",
        "name": run,
        "source": "/data/old.yaml",
        "datasets": [
            {
                "name": "iris",
                "source": "iris",
                "target": None,
                "task": "multiclass",
                "fingerprint": "fp-iris",
                "persistence": None,
                "split": "random",
            }
        ],
        "spaces": [{"name": "tiny", "source": str(shipped_spaces_dir() / "tiny.yaml"), "hash": tiny.content_hash}],
        "backend": {"name": "optuna", "algorithm": "tpe", "pruner": "none", "options": {}},
        "metric": None,
        "budget": {"trials": 2, "timeout": None, "per": "dataset", "trial_timeout": None,
                   "max_consecutive_failures": 5, "trials_per_study": {f"{run}/iris/tiny/optuna-tpe": 2}},
        "devices": {"workers": 1},
        "storage": "sqlite",
        "seed": 3,
        "retrain": False,
        "studies": [f"{run}/iris/tiny/optuna-tpe"],
        "versions": {"automl": "0.1.0.dev0"},
        "python": "3.11.9",
        "hardware": {"platform": "Linux", "cpu_count": 2, "cuda_visible_devices": None},
    }  # fmt: skip


def test_an_old_run_with_experiment_yaml_is_read_and_converted(tmp_path):
    run = tmp_path / "old"
    run.mkdir()
    old = legacy_experiment()
    (run / "experiment.yaml").write_text(yaml.safe_dump(old, sort_keys=False))
    storage = open_storage(storage_url_for(run, None), heartbeat_interval=None)
    create_studies(storage, manifest("old", datasets=("iris",)), with_trial=True)

    assert RunDir(run).is_run and RunDir(run).has_manifest
    converted = read_manifest(run)
    assert converted.kind == "experiment" and converted.name == "old" and converted.seed == 3
    assert converted.studies == ("old/iris/tiny/optuna-tpe",)
    assert converted.datasets[0] == DatasetEntry(
        "iris", "iris", None, "multiclass", "fp-iris", None, "random"
    )
    assert converted.backend == BackendEntry("optuna", "tpe", "none", {})
    assert (
        converted.retrain is None and converted.budget.trials_per_study == old["budget"]["trials_per_study"]
    )
    assert converted.environment == Environment({"automl": "0.1.0.dev0"}, "3.11.9", old["hardware"])
    # The old file named the space's file only; while it holds the same space, the definition is recorded.
    assert converted.spaces[0].definition == load_space("tiny").to_dict()
    assert converted.spaces[0].space().content_hash == old["spaces"][0]["hash"]
    # Readers of the run work on it unchanged.
    (board,) = run_leaderboards(run)
    assert board.attrs["study"] == "old/iris/tiny/optuna-tpe" and list(board["rank"].dropna()) == [1]


def test_an_old_run_whose_space_file_changed_says_so_when_the_space_is_needed(tmp_path):
    old = legacy_experiment()
    old["spaces"][0]["hash"] = "0123456789abcdef"
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(old))
    entry = read_manifest(tmp_path).spaces[0]
    assert entry.definition is None
    assert "gone or changed (hash 0123456789abcdef)" in one_line_error(entry.space)


def test_a_users_experiment_file_is_no_run(tmp_path):
    (tmp_path / "experiment.yaml").write_text(
        "version: 1\ndatasets: [iris]\nspaces: [tiny]\nbudget: {trials: 2}\n"
    )
    assert not RunDir(tmp_path).is_run
    assert "not an automl run directory (no run.yaml)" in one_line_error(lambda: read_manifest(tmp_path))


# ---------------------------------------------------------------------------------------- refusals
def test_an_unknown_version_is_one_line_naming_the_file(tmp_path, storage):
    data = {**manifest().to_dict(), "manifest_version": 99}
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(data))
    text = one_line_error(lambda: read_manifest(tmp_path))
    assert str(tmp_path / "run.yaml") in text and "version 99" in text and "upgrade automl" in text

    record = manifest()
    create_studies(storage, record)
    optuna.load_study(study_name=record.studies[0], storage=storage).set_user_attr(MANIFEST_ATTR, data)
    text = one_line_error(lambda: manifest_from_storage(storage, study_name=record.studies[0]))
    assert f"study {record.studies[0]!r}" in text and "upgrade automl" in text

    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "experiment.yaml").write_text(yaml.safe_dump({**legacy_experiment(), "version": 99}))
    text = one_line_error(lambda: read_manifest(legacy))
    assert str(legacy / "experiment.yaml") in text and "upgrade automl" in text


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("- a list\n- not a mapping\n", "the manifest must be a mapping, not list"),
        ("manifest_version: 1\nkind: search\n", "missing `name`"),
        ("{manifest_version: 1, kind: search, name: x\n", "cannot read the run manifest"),
        (None, "`datasets.0` misses `name`"),
        ("DROP_STUDIES", "missing `studies`"),
        ("BAD_RETRAIN", "(`retrain`: `seeds` must be at least 1, but got 0)"),
    ],
    ids=["not-a-mapping", "missing-keys", "bad-yaml", "bad-entry", "no-studies", "bad-retrain"],
)
def test_a_damaged_run_yaml_is_one_line_naming_the_file(tmp_path, content, fragment):
    if content is None:
        data = manifest().to_dict()
        data["datasets"][0].pop("name")
        content = yaml.safe_dump(data)
    elif content == "DROP_STUDIES":
        data = manifest().to_dict()
        data.pop("studies")
        content = yaml.safe_dump(data)
    elif content == "BAD_RETRAIN":
        # The manifest's retrain entry is the policy: a value it refuses is a damaged manifest.
        data = manifest().to_dict()
        data["retrain"]["seeds"] = 0
        content = yaml.safe_dump(data)
    (tmp_path / "run.yaml").write_text(content)
    text = one_line_error(lambda: read_manifest(tmp_path))
    assert text.startswith(f"{tmp_path / 'run.yaml'}: ") and fragment in text


def test_a_damaged_old_experiment_yaml_names_that_file(tmp_path):
    old = legacy_experiment()
    del old["backend"]
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(old))
    text = one_line_error(lambda: read_manifest(tmp_path))
    assert text.startswith(f"{tmp_path / 'experiment.yaml'}: ") and "missing `backend`" in text


# ---------------------------------------------------------------------------------------- resume check
def test_the_resume_check_reads_the_manifest_and_names_python_arguments():
    record = manifest(kind="search", datasets=("wine",))
    other = BackendEntry("optuna", "random")
    check_same_search(record, "wine", "tiny", record.backend)
    text = one_line_error(lambda: check_same_search(record, "wine", "tiny", other))
    assert "the run was searched with optuna/tpe, not optuna/random" in text
    assert "`backend` optuna and `algorithm` tpe" in text and "--" not in text
    assert "`resume` on another dataset" in one_line_error(
        lambda: check_same_search(record, "iris", "tiny", record.backend)
    )
    assert "`resume` with another space" in one_line_error(
        lambda: check_same_search(record, "wine", "mlp", record.backend)
    )
