"""Every ``Literal`` field of the packages' config dataclasses is checked when the config is built."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing

import pytest

PACKAGES = ("cosfire", "hashing", "retrieval", "cli")


def literal_fields() -> list[tuple[type, str]]:
    """(dataclass, field name) for every Literal-typed field of a default-constructible dataclass."""
    modules = [  # click commands hold no config objects
        importlib.import_module(f"{package}.{info.name}")
        for package in PACKAGES
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__)
        if not (info.name.endswith("_cmd") or info.name in ("main", "__main__"))
    ]
    # names that modules import only for type checking resolve among the packages' own
    names = {k: v for module in modules for k, v in vars(module).items() if isinstance(v, type)}
    found = {}
    for module in modules:
        for value in vars(module).values():
            if not (dataclasses.is_dataclass(value) and isinstance(value, type)):
                continue
            if value.__module__ != module.__name__:
                continue
            try:
                value()
            except TypeError:  # needs arguments: not a config with defaults
                continue
            hints = typing.get_type_hints(value, localns=names)
            for field in dataclasses.fields(value):
                hint = hints.get(field.name)
                options = [hint, *typing.get_args(hint)]
                if any(typing.get_origin(option) is typing.Literal for option in options):
                    found[(value, field.name)] = None
    return list(found)


FIELDS = literal_fields()


def test_the_configs_have_literal_fields_to_check() -> None:
    names = {f"{cls.__name__}.{name}" for cls, name in FIELDS}
    assert {"FilterConfig.polarity", "TrainingConfig.normalisation", "CNNConfig.loss"} <= names
    assert len(FIELDS) >= 20


@pytest.mark.parametrize(("config", "name"), FIELDS, ids=lambda x: getattr(x, "__name__", x))
def test_a_value_outside_the_literal_is_refused_when_built(config: type, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(config(), **{name: "no-such-choice"})
