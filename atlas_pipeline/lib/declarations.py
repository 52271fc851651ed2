"""Declarations (`assets/*.yaml`, or `$ATLAS_ASSETS`; `checks/files/*.yaml`) read once into typed
objects: each file's shape is a pydantic model, and whatever the model rejects becomes one
DeclarationError line per problem, naming the file and the field path (`store.bucket`, `rules[0].team`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

M = TypeVar("M", bound=BaseModel)


class DeclarationError(ValueError):
    """A declaration file is wrong: one line per problem, each naming the file and the field."""

    def __init__(self, *problems: str) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problems))


class Declaration(BaseModel):
    """Base of every declaration model: no unknown fields, no silent coercion (`"5"` is not 5,
    `yes` is not text), immutable once parsed."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_value_means_default(cls, data: object) -> object:
        """`field:` with nothing after it is the field left out: its default, or "is required"."""
        return {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else data


def read_declaration(path: Path) -> object:
    """The parsed YAML of a declaration file; an unreadable file or invalid YAML is a
    DeclarationError naming the file."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DeclarationError(f"{path}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML: {exc}") from exc


# What a pydantic error type means, said the way the declarations' README says it.
_REASONS = {
    "missing": "is required",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "date_type": "must be a date (YYYY-MM-DD)",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
}

_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def _entry(name: str, index: int) -> str:
    return f"{name}[{index}]"


def _split(loc: tuple[Any, ...], entry: Callable[[str, int], str] | None, model: type[BaseModel]) -> tuple[str, str]:
    """(entry prefix, field path) of an error location: ('rules', 1, 'team') -> ('rules[1]', 'team');
    ('rules', 1) -> ('rules[1]', '') for a list of mappings; ('store', 'bucket') -> ('', 'store.bucket');
    ('coverages', 2) -> ('', 'coverages[2]') for a list of plain values."""
    parts = [p for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    prefix, field = "", ""
    for i, part in enumerate(parts):
        if isinstance(part, int):
            if entry and not prefix and "." not in field and _nested_model(_annotation(model, parts[:i])) is not None:
                prefix, field = entry(field, part), ""  # an entry of a list of mappings
            else:
                field += f"[{part}]"
        else:
            field = f"{field}.{part}" if field else str(part)
    return prefix, field


def _annotation(model: type[BaseModel], loc: list[Any]) -> Any:
    """The annotation of the field at `loc` (list indexes skipped), or None."""
    annotation: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if get_origin(annotation) is dict:  # `part` is a key: the field is the mapping's value
            annotation = get_args(annotation)[1]
            continue
        inner = _nested_model(annotation)
        info = inner.model_fields.get(str(part)) if inner else None
        if info is None:
            return None
        annotation = info.annotation
    return annotation


def problems_of(
    exc: ValidationError, path: Path | str, model: type[BaseModel], entry: Callable[[str, int], str] | None = _entry
) -> list[str]:
    """One line per error: `<file>: [<entry>: ]field '<path>' <reason>[, got <value>]`. `entry` names an
    entry of a list of mappings (default `rules[2]`); None keeps the index in the field path."""
    lines = []
    for error in exc.errors(include_url=False):
        prefix, field = _split(tuple(error["loc"]), entry, model)
        kind = error["type"]
        if kind == "value_error":
            reason = str(error["ctx"]["error"])
        elif kind == "extra_forbidden":
            reason = f"is not known (expected one of {', '.join(_known(model, error['loc']))})"
        elif kind == "literal_error":
            expected = error["ctx"]["expected"].replace(" or ", ", ").replace("'", "")
            reason = f"must be one of {expected}, got {error['input']!r}"
        elif error["input"] is None and kind.endswith("_type"):
            reason = "is required"  # `field:` with no value
        elif kind in _BOUNDS:
            op, key = _BOUNDS[kind]
            bound = error["ctx"][key]
            reason = f"must be {op} {f'{bound:g}' if isinstance(bound, float) else bound}, got {error['input']!r}"
        elif kind in _REASONS:
            reason = _REASONS[kind] + ("" if kind == "missing" else f", got {error['input']!r}")
        else:
            reason = f"{error['msg'][0].lower()}{error['msg'][1:]}, got {error['input']!r}"
        where = f"{path}: {prefix}: " if prefix else f"{path}: "
        lines.append(f"{where}field '{field}' {reason}" if field else f"{where}{reason}")
    return lines


def _known(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The fields the model (or the nested model holding the field at `loc`) accepts."""
    return list((_nested_model(_annotation(model, list(loc[:-1]))) or model).model_fields)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _nested_model(arg)) is not None:
            return found
    return None


def validate_declaration(
    model: type[M], data: object, path: Path | str, entry: Callable[[str, int], str] | None = _entry
) -> M:
    """`data` (a parsed declaration file) as a `model`; a DeclarationError lists every problem,
    each naming the file and the field path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DeclarationError(*problems_of(exc, path, model, entry)) from None
