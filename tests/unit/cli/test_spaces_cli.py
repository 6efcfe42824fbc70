import json
from pathlib import Path

import pytest

from automl.cli import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_spaces_list_json(capsys):
    code, out, _ = run(["spaces", "list", "--json"], capsys)
    assert code == 0
    names = {row["name"] for row in json.loads(out)}
    assert {"mlp", "cnn", "tiny"} <= names


def test_spaces_show_yaml_is_loadable(tmp_path, capsys):
    code, out, _ = run(["spaces", "show", "tiny", "--yaml"], capsys)
    assert code == 0
    copy = tmp_path / "copy.yaml"
    copy.write_text(out)
    code, out, _ = run(["spaces", "validate", str(copy)], capsys)
    assert code == 0 and "ok" in out and "16 parameters" in out


def test_spaces_show_table_lists_conditions(capsys):
    code, out, _ = run(["spaces", "show", "mlp"], capsys)
    assert code == 0
    assert "momentum" in out and "optimizer in ['sgd'," in out and "plateau_patience" in out


def test_validate_reports_each_bad_file_on_one_line_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters:\n  depth: {type: int, low: 3, high: 1}\n")
    good = Path("search_spaces/tiny.yaml")
    code, out, err = run(["spaces", "validate", str(good), str(bad)], capsys)
    assert code == 2
    assert "ok search_spaces/tiny.yaml" in out
    assert f"{bad}:2: parameters.depth: `low <= high` must hold" in err
    assert "Traceback" not in err


def test_unknown_space_is_one_line_exit_2(capsys):
    code, _, err = run(["spaces", "show", "mpl"], capsys)
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "unknown search space 'mpl' (did you mean 'mlp'?)" in err
