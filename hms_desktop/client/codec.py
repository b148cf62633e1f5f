"""Rebuilding domain records and domain errors from the desk API's JSON.

The server writes records with `hms_desktop.domain.models.to_jsonable`; `decode` reads them
back into the same frozen dataclasses, driven by each record's type hints, so a field added
to a record travels without a second hand-written mapping. Errors come back as the same
exception class with the same message the local implementation raises.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime, time
from enum import Enum
from typing import Any, TypeVar, get_args, get_origin

from hms_desktop.domain import errors

T = TypeVar("T")


# Each record type's resolved hints, computed once per type (get_type_hints evaluates strings).
_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode_value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in get_args(kind) if option is not type(None)]
        return _decode_value(options[0], value)
    if origin is tuple:
        item_kind = get_args(kind)[0]
        return tuple(_decode_value(item_kind, item) for item in value)
    if origin is list:
        item_kind = get_args(kind)[0]
        return [_decode_value(item_kind, item) for item in value]
    if origin is dict or kind is Any:
        return value
    if dataclasses.is_dataclass(kind):
        return decode(kind, value)  # type: ignore[arg-type]
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(value)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is time:
        return time.fromisoformat(value)
    return value


def decode(cls: type[T], data: dict[str, Any]) -> T:
    """One record from its JSON form; unknown keys (a newer server's) are ignored."""
    hints = _hints(cls)
    values = {
        item.name: _decode_value(hints[item.name], data[item.name])
        for item in dataclasses.fields(cls)  # type: ignore[arg-type]
        if item.name in data
    }
    return cls(**values)


def decode_list(cls: type[T], data: list[dict[str, Any]]) -> list[T]:
    return [decode(cls, item) for item in data]


# --- errors -----------------------------------------------------------------------------------

# When the server names no class, an error is rebuilt from its kind (the base class that
# carries the custom messages of that kind) unless its message is a class's own default.
_CLASS_BY_KIND: dict[str, type[errors.DomainError]] = {
    "invalid": errors.ValidationError,
    "not_found": errors.NotFound,
    "forbidden": errors.PermissionDenied,
    "unauthenticated": errors.TokenInvalid,
    "conflict": errors.Conflict,
    "unprocessable": errors.InvalidTransition,
    "unavailable": errors.BackendUnavailable,
}


def _all_subclasses(cls: type[errors.DomainError]) -> list[type[errors.DomainError]]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def _registry() -> tuple[
    dict[str, type[errors.DomainError]], dict[tuple[str, str], type[errors.DomainError]]
]:
    by_name: dict[str, type[errors.DomainError]] = {"DomainError": errors.DomainError}
    by_message: dict[tuple[str, str], type[errors.DomainError]] = {}
    for cls in _all_subclasses(errors.DomainError):
        # Only the domain's own classes: server-side ones (the API's) are not raised here.
        if not cls.__module__.startswith(("hms_desktop.domain", "hms_desktop.services")):
            continue
        by_name.setdefault(cls.__name__, cls)
        by_message.setdefault((cls.kind, cls.message), cls)
    return by_name, by_message


def error_from_body(body: dict[str, Any], status: int) -> errors.DomainError:
    """The domain exception the server raised, with its message and field."""
    kind = str(body.get("kind") or "invalid")
    message = str(body.get("error") or body.get("detail") or errors.DomainError.message)
    field = body.get("field")
    listed = body.get("fields")
    fields = {str(k): str(v) for k, v in listed.items()} if isinstance(listed, dict) else None
    by_name, by_message = _registry()
    cls = (
        by_name.get(str(body.get("type") or ""))
        or by_message.get((kind, message))
        or _CLASS_BY_KIND.get(kind)
    )
    if cls is None:
        error = errors.DomainError(message, field=field, fields=fields)
        error.kind = kind
        return error
    return cls(message, field=field, fields=fields)
