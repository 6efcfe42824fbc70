"""The one reader of durations (``90``, ``90s``, ``20m``, ``1.5h``): the command line's flags and an
experiment file's budget, each naming the value its own way."""

from __future__ import annotations

import pytest

from automl._durations import parse_duration
from automl.cli._search import parse_duration as flag_duration
from automl.exceptions import UserError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("2 sec", 2.0), ("20m", 1200.0), ("3min", 180.0), ("1.5h", 5400.0),
     (" 7 ", 7.0), (45, 45.0), (0.5, 0.5)],
)  # fmt: skip
def test_seconds_minutes_hours_and_numbers(text, seconds):
    assert parse_duration(text, name="budget.timeout") == seconds


@pytest.mark.parametrize("text", ["soon", "10 days", "-5m", "1h30m", "", True])
def test_an_unreadable_duration_names_the_value_and_says_how_to_write_one(text):
    with pytest.raises(UserError) as info:
        parse_duration(text, name="budget.timeout")
    assert str(info.value) == (
        f"budget.timeout: cannot read {text!r} as a duration; write seconds (90) or 20m / 1h"
    )


@pytest.mark.parametrize("value", [0, "0s", -3])
def test_a_duration_is_positive_unless_the_caller_takes_zero(value):
    with pytest.raises(UserError, match=rf"^--timeout: a duration must be positive, but got {value!r}$"):
        parse_duration(value, name="--timeout")
    if value != -3:
        assert parse_duration(value, name="--wait", positive=False) == 0.0
    else:
        with pytest.raises(UserError, match="--wait: a duration must be zero or more, but got -3"):
            parse_duration(value, name="--wait", positive=False)


def test_the_command_line_names_its_flag_and_passes_none_through():
    assert flag_duration(None, "--timeout") is None
    assert flag_duration("20m", "--timeout") == 1200.0
    assert flag_duration("0", "--wait") == 0.0
    with pytest.raises(UserError) as info:
        flag_duration("soon", "--timeout")
    assert str(info.value) == "--timeout: cannot read 'soon' as a duration; write seconds (90) or 20m / 1h"
