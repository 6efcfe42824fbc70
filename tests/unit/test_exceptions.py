"""Errors carry the arguments they name as data: one message, worded for Python or for another caller."""

import pickle

import pytest

from automl.exceptions import NO_VALUE, Argument, FatalError, MissingDependency, UserError


def flag(argument):
    """A caller that knows a flag for every argument but ``policy``."""
    if argument.name == "policy":
        return None
    name = "--" + argument.name.replace("_", "-")
    return name if argument.value is NO_VALUE else f"{name} {argument.value}"


def test_one_argument():
    error = UserError("{n_trials} must be at least 1, but got {got}", n_trials=Argument("n_trials"), got=0)
    assert str(error) == "`n_trials` must be at least 1, but got 0"
    assert error.arguments == (Argument("n_trials"),)
    assert error.render(flag) == "--n-trials must be at least 1, but got 0"
    assert error.render() == str(error)


def test_an_argument_with_a_value():
    error = UserError("or choose {algorithm}", algorithm=Argument("algorithm", "tpe"))
    assert str(error) == "or choose `algorithm='tpe'`"
    assert error.render(flag) == "or choose --algorithm tpe"
    written = UserError("{asked} cannot apply", asked=Argument("warm_start", "portfolio", literal=False))
    assert str(written) == "`warm_start=portfolio` cannot apply"
    assert written.render(flag) == "--warm-start portfolio cannot apply"


def test_two_arguments_and_one_the_caller_does_not_know():
    error = UserError(
        "give {policy} or {top_k} and {seeds}, not both",
        policy=Argument("policy"),
        top_k=Argument("top_k"),
        seeds=Argument("seeds"),
    )
    assert str(error) == "give `policy` or `top_k` and `seeds`, not both"
    assert error.render(flag) == "give `policy` or --top-k and --seeds, not both"


def test_values_and_plain_messages_are_never_read_as_templates():
    assert str(UserError("a {brace} stays")) == "a {brace} stays"
    error = UserError("{resume}: {detail!r}", resume=Argument("resume"), detail="{not a field}")
    assert str(error) == "`resume`: '{not a field}'"
    assert error.render(flag) == "--resume: '{not a field}'"
    assert UserError("{{literal}} {resume}", resume=Argument("resume")).render(flag) == "{literal} --resume"


def test_a_prefix_keeps_the_arguments():
    error = UserError("{seeds} must be at least 1, but got {got!r}", seeds=Argument("seeds"), got=0)
    located = error.prefixed("f{1}.yaml:3: ", " (dataset 'iris')")
    assert type(located) is UserError
    assert str(located) == "f{1}.yaml:3: `seeds` must be at least 1, but got 0 (dataset 'iris')"
    assert located.render(flag) == "f{1}.yaml:3: --seeds must be at least 1, but got 0 (dataset 'iris')"
    assert located.arguments == (Argument("seeds"),)
    twice = located.prefixed("outer: ")
    assert twice.render(flag) == "outer: " + located.render(flag)
    assert str(UserError("plain {x}").prefixed("where: ")) == "where: plain {x}"


def test_errors_joined_keep_each_ones_arguments():
    first = FatalError("{resume} a ({n})", resume=Argument("resume"), n=1)
    second = FatalError("{resume} b ({n})", resume=Argument("resume", True), n=2)
    joined = FatalError.of("x: ", first, "; y: ", second, " (end)")
    assert type(joined) is FatalError
    assert str(joined) == "x: `resume` a (1); y: `resume=True` b (2) (end)"
    assert joined.render(flag) == "x: --resume a (1); y: --resume True b (2) (end)"


@pytest.mark.parametrize("cls", [UserError, FatalError, MissingDependency])
def test_errors_travel_between_processes(cls):
    error = cls("{algorithm} is missing", algorithm=Argument("algorithm", "gp"))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == str(error) and copy.render(flag) == "--algorithm gp is missing"
