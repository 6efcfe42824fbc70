"""`automl backends`: the registry as a table, or as README's markdown."""

from automl.backends._registry import markdown_table


def test_table_lists_every_backend_and_option(cli):
    code, out, _ = cli(["backends"])
    assert code == 0
    for word in ("optuna", "keras_tuner", "successive_halving", "reduction_factor", "hyperband_iterations"):
        assert word in out
    assert "median (default;" in out and "(Hyperband stops trials" in out


def test_markdown_is_the_readme_table(cli):
    code, out, _ = cli(["backends", "--format", "markdown"])
    assert code == 0 and out == markdown_table()


def test_unknown_format_is_one_line(cli):
    code, _, err = cli(["backends", "-f", "html"])
    assert code == 2 and "--format: unknown format 'html'; use table or markdown" in err


def test_search_help_lists_what_the_registry_declares(cli):
    code, out, _ = cli(["search", "--help"])
    assert code == 0
    flat = " ".join(out.replace("│", " ").split())
    assert "keras_tuner: random (default), bayesian, hyperband, grid" in flat
    assert "optuna: median (default; none for grid)" in flat
    assert "hyperband: factor, hyperband_iterations" in flat
