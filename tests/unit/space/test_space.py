import pytest
import yaml

from automl.exceptions import ConfigError, SpaceError
from automl.space import Bool, Choice, Fixed, Float, Int, SearchSpace, list_spaces, load_space


def small_space(**extra):
    return SearchSpace(
        name="demo",
        family="mlp",
        parameters=[
            Int("depth", 1, 3),
            Int("units", 8, 64, log=True, per_layer="depth"),
            Choice("optimizer", ("adam", "sgd")),
            Float("momentum", 0.0, 0.9, active_if={"optimizer": ["sgd"]}),
            Choice("lr_schedule", ("constant", "step")),
            Int("decay_every", 1, 5, active_if={"lr_schedule": ["step"]}),
            Fixed("epochs", 3),
        ],
        **extra,
    )


def test_per_layer_parameters_expand_with_depth_conditions():
    space = small_space()
    assert [p.name for p in space][:4] == ["depth", "units_0", "units_1", "units_2"]
    assert space["units_0"].conditions == {}
    assert space["units_1"].conditions == {"depth": (2, 3)}
    assert space["units_2"].conditions == {"depth": (3,)}


def test_sample_returns_only_active_parameters():
    space = small_space()
    for seed in range(200):
        config = space.sample(seed)
        depth = config["depth"]
        assert {f"units_{i}" for i in range(depth)} <= config.keys()
        assert not {f"units_{i}" for i in range(depth, 3)} & config.keys()
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert ("decay_every" in config) == (config["lr_schedule"] == "step")
        assert space.validate_config(config) == config


def test_sample_is_deterministic_per_seed():
    space = load_space("mlp")
    assert space.sample(7) == space.sample(7)
    assert space.sample(7) != space.sample(8)


def test_validate_config_errors_name_the_parameter_and_fix():
    space = small_space()
    good = {"depth": 1, "units_0": 8, "optimizer": "adam", "lr_schedule": "constant", "epochs": 3}
    assert space.validate_config(good) == good
    cases = [
        ({**good, "dropuot": 0.1}, "unknown parameter 'dropuot'"),
        ({**good, "units_1": 8}, "'units_1' is inactive here (it needs depth in [2, 3]); remove it"),
        ({k: v for k, v in good.items() if k != "units_0"}, "missing parameter 'units_0'"),
        ({**good, "units_0": 1000}, "units_0=1000 is outside log int [8, 64]"),
        ({**good, "optimizer": "adamw"}, "optimizer='adamw' is outside choice {adam, sgd}"),
        ({**good, "momentum": 0.5}, "'momentum' is inactive here"),
    ]
    for config, fragment in cases:
        with pytest.raises(ConfigError) as info:
            space.validate_config(config)
        assert fragment in str(info.value)


def test_space_rejects_unknown_parameter_and_vocabulary():
    with pytest.raises(
        SpaceError, match=r"parameters.dropuot: unknown parameter for family mlp \(did you mean 'dropout'\?\)"
    ):
        SearchSpace(name="x", parameters=[Float("dropuot", 0.0, 0.5)])
    with pytest.raises(SpaceError, match=r"unknown activation 'relux' \(did you mean 'relu'\?\)"):
        SearchSpace(name="x", parameters=[Choice("activation", ("relux", "tanh"))])
    with pytest.raises(SpaceError, match="unknown optimizer 'adagrad'"):
        SearchSpace(name="x", parameters=[Choice("optimizer", ("adagrad",))])
    with pytest.raises(SpaceError, match="unknown lr_schedule 'linear'"):
        SearchSpace(name="x", parameters=[Choice("lr_schedule", ("linear",))])
    with pytest.raises(SpaceError, match="unknown family 'rnn'"):
        SearchSpace(name="x", family="rnn", parameters=[Int("depth", 1, 2)])


def test_conditions_must_name_existing_parent_and_possible_values():
    with pytest.raises(SpaceError, match="condition on 'optimiser', which is not a parameter"):
        SearchSpace(name="x", parameters=[Float("momentum", 0.0, 0.9, active_if={"optimiser": ["sgd"]})])
    with pytest.raises(SpaceError, match="optimizer can never be 'rmsprop'"):
        SearchSpace(
            name="x",
            parameters=[
                Choice("optimizer", ("adam", "sgd")),
                Float("momentum", 0.0, 0.9, active_if={"optimizer": ["rmsprop"]}),
            ],
        )
    with pytest.raises(SpaceError, match="per_layer: 'layers' must name an int parameter"):
        SearchSpace(name="x", parameters=[Int("units", 8, 16, per_layer="layers")])


def test_children_declared_before_parents_are_reordered():
    space = SearchSpace(
        name="x",
        parameters=[
            Float("momentum", 0.0, 0.9, active_if={"optimizer": ["sgd"]}),
            Choice("optimizer", ("adam", "sgd")),
        ],
    )
    assert [p.name for p in space] == ["optimizer", "momentum"]


def test_grid_needs_finite_space():
    with pytest.raises(SpaceError, match="grid search needs a finite space, but 'momentum' is a float"):
        small_space().grid()
    assert len(Int("units", 8, 64, log=True).grid()) == 57
    finite = SearchSpace(
        name="g",
        parameters=[
            Int("depth", 1, 2),
            Choice("units", (8, 16), per_layer="depth"),
            Choice("optimizer", ("adam", "sgd")),
            Float("momentum", 0.0, 0.9, step=0.45, active_if={"optimizer": ["sgd"]}),
            Bool("batch_norm"),
        ],
    )
    configs = finite.grid()
    # depth 1: 2 widths, depth 2: 4 widths; optimizer: adam + sgd x 3 momenta; batch_norm x 2.
    assert len(configs) == (2 + 4) * (1 + 3) * 2 == finite.grid_size()
    assert len({tuple(sorted(c.items())) for c in configs}) == len(configs)
    assert all(finite.validate_config(c) == c for c in configs)


def test_yaml_round_trip_for_every_shipped_space():
    assert {"mlp", "cnn", "tiny"} <= set(list_spaces())
    for name in list_spaces():
        space = load_space(name)
        again = SearchSpace.from_dict(yaml.safe_load(space.to_yaml()))
        assert again == space
        assert again.content_hash == space.content_hash
        assert [p.name for p in again] == [p.name for p in space]


def test_shipped_mlp_covers_every_knob():
    space = load_space("mlp")
    names = {p.name for p in space.declared}
    assert {
        "depth",
        "units",
        "activation",
        "dropout",
        "l1",
        "l2",
        "batch_norm",
        "batch_size",
        "optimizer",
        "momentum",
        "learning_rate",
        "lr_schedule",
        "epochs",
        "patience",
    } <= names
    assert set(space["activation"].values) == {"relu", "tanh", "elu", "selu", "gelu", "swish", "leaky_relu"}
    assert set(space["optimizer"].values) == {"sgd", "adam", "adamw", "rmsprop"}
    assert set(space["lr_schedule"].values) == {
        "constant",
        "step",
        "piecewise",
        "exponential",
        "cosine",
        "warmup_hold_decay",
        "plateau",
    }
    # Each schedule's own parameter is active only under that schedule.
    assert space["decay_every"].conditions == {"lr_schedule": ("step",)}
    assert space["plateau_patience"].conditions == {"lr_schedule": ("plateau",)}
    assert space["momentum"].conditions == {"optimizer": ("sgd", "rmsprop")}


def test_content_hash_changes_with_meaning_only():
    a, b = small_space(), small_space()
    assert a.content_hash == b.content_hash
    c = small_space(objective="f1")
    assert c.content_hash != a.content_hash


def test_midsize_spans_compacts_knobs_over_wider_ranges():
    compact, midsize = ({p.name: p for p in load_space(n).declared} for n in ("compact", "midsize"))
    assert set(compact) == set(midsize)
    for name in ("depth", "units", "dropout", "l2"):
        assert midsize[name].low == compact[name].low and midsize[name].high > compact[name].high
    assert set(compact["batch_size"].values) < set(midsize["batch_size"].values)
