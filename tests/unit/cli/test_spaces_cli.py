import json
from pathlib import Path


def test_spaces_list_json(cli):
    code, out, _ = cli(["spaces", "list", "--json"])
    assert code == 0
    names = {row["name"] for row in json.loads(out)}
    assert {"mlp", "cnn", "tiny"} <= names


def test_spaces_show_yaml_is_loadable(tmp_path, cli):
    code, out, _ = cli(["spaces", "show", "tiny", "--yaml"])
    assert code == 0
    copy = tmp_path / "copy.yaml"
    copy.write_text(out)
    code, out, _ = cli(["spaces", "validate", str(copy)])
    assert code == 0 and "ok" in out and "16 parameters" in out


def test_spaces_show_table_lists_conditions(cli):
    code, out, _ = cli(["spaces", "show", "mlp"])
    assert code == 0
    assert "momentum" in out and "optimizer in ['sgd'," in out and "plateau_patience" in out


def test_validate_reports_each_bad_file_on_one_line_and_exits_2(tmp_path, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("parameters:\n  depth: {type: int, low: 3, high: 1}\n")
    good = Path("search_spaces/tiny.yaml")
    code, out, err = cli(["spaces", "validate", str(good), str(bad)])
    assert code == 2
    assert "ok search_spaces/tiny.yaml" in out
    assert f"{bad}:2: parameters.depth: `low <= high` must hold" in err
    assert "Traceback" not in err


def test_unknown_space_is_one_line_exit_2(cli):
    code, _, err = cli(["spaces", "show", "mpl"])
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "unknown search space 'mpl' (did you mean 'mlp'?)" in err
