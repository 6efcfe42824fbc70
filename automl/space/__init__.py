"""Backend-neutral search spaces: typed parameters, conditions as data, YAML I/O. No Keras here."""

from automl.space._io import (
    DEFAULT_SPACE,
    dump_space,
    list_spaces,
    load_space,
    shipped_spaces_dir,
    space_from_dict,
)
from automl.space._params import Bool, Choice, Fixed, Float, Int, Parameter
from automl.space._space import SearchSpace

__all__ = [
    "DEFAULT_SPACE",
    "Bool",
    "Choice",
    "Fixed",
    "Float",
    "Int",
    "Parameter",
    "SearchSpace",
    "dump_space",
    "list_spaces",
    "load_space",
    "shipped_spaces_dir",
    "space_from_dict",
]
