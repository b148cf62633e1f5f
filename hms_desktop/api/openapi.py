"""The OpenAPI document says what the server does: who may call each operation (from the
access policy entry every route declares) and every status it may answer.

Each route names the policy entry it serves: `openapi_extra=access(Kind.PATIENT,
Action.READ)`, or `access(PUBLIC)` for what any caller may use (log-ins, token refresh,
the version). The permission-matrix test calls every route as every role and checks the
answers against that entry; a route without one fails it.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

from hms_desktop.domain import policy
from hms_desktop.domain.models import ANONYMOUS, Actor
from hms_desktop.domain.policy import Action, Kind

from .errors import DOCUMENT_ERROR_CODES, document_of

ACCESS_KEY = "x-access"
PUBLIC = "public"

_ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "booking": {
        "title": "BookingError",
        "type": "object",
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "hospital": {
        "title": "HospitalError",
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    "desk": {
        "title": "DeskError",
        "type": "object",
        "required": ["error", "kind"],
        "properties": {
            "error": {"type": "string"},
            "kind": {"type": "string"},
            "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "type": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            # Every wrong field's message, when a form has several (field -> message).
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
}
_SCHEMA_NAMES = {document: schema["title"] for document, schema in _ERROR_SCHEMAS.items()}
_DESCRIPTIONS = {
    400: "Invalid request",
    401: "Not logged in, or the token is invalid or expired",
    403: "Not allowed for this account",
    404: "Not found",
    409: "Conflicts with the current state",
    422: "Cannot be done in the current state",
    429: "Too many requests; see Retry-After",
    503: "A clinic service is briefly unavailable; see Retry-After",
}


def access(kind: Kind | str, action: Action | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route: the policy entry it serves."""
    if kind == PUBLIC:
        return {ACCESS_KEY: PUBLIC}
    assert isinstance(kind, Kind) and action is not None
    assert action in policy.RULES[kind], f"no policy entry for {kind}:{action}"
    return {ACCESS_KEY: f"{kind.value}:{action.value}"}


def parse_access(value: str) -> tuple[Kind, Action] | None:
    """(kind, action) of an access entry; None for a public route."""
    if value == PUBLIC:
        return None
    kind, action = value.split(":")
    return Kind(kind), Action(action)


def allowed(actor: Actor, path: str, value: str) -> bool:
    """Whether the policy lets `actor` call an operation of `path` with this access entry
    at all (records it does not own aside). The desk API is, as a whole, the desk's (but for
    `policy.DESK_API_FOR_PATIENTS`)."""
    entry = parse_access(value)
    if entry is None:
        return True
    if (
        document_of(path) == "desk"
        and entry not in policy.DESK_API_FOR_PATIENTS
        and not policy.allows(actor, Kind.DESK, Action.USE)
    ):
        return False
    return policy.allows(actor, *entry)


def _security(path: str, value: str | None) -> list[dict[str, list[str]]]:
    if value is not None and parse_access(value) is None:
        return []  # a log-in or token exchange: the body carries what proves who it is
    schemes: list[dict[str, list[str]]] = [{"HTTPBearer": []}]
    if document_of(path) == "booking":
        schemes.append({"SessionCookie": []})
    if value is not None and allowed(ANONYMOUS, path, value):
        schemes.insert(0, {})  # optional: the public may call it too
    return schemes


def _describe_operation(path: str, operation: dict[str, Any], value: str | None) -> None:
    document = document_of(path)
    operation["security"] = _security(path, value)
    responses = operation.setdefault("responses", {})
    # FastAPI's own 422 is never sent: invalid requests are the document's 400 (errors.py).
    if "HTTPValidationError" in str(responses.get("422", "")):
        del responses["422"]
    reference = {"$ref": f"#/components/schemas/{_SCHEMA_NAMES[document]}"}
    for code in DOCUMENT_ERROR_CODES[document]:
        answer = responses.setdefault(str(code), {"description": _DESCRIPTIONS[code]})
        answer.setdefault("content", {"application/json": {"schema": reference}})


def methods_at(app: FastAPI, path: str) -> list[str]:
    """Every method the document lists for the path a request named (a 405's `Allow`):
    Starlette names only the first route that matched, and a path here has several."""
    index: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "methods", None)
    if index is None:
        # Literal paths first: /desk/v1/patients/duplicates is not a patient's id.
        templates = sorted(app.openapi()["paths"].items(), key=lambda item: item[0].count("{"))
        index = [
            (
                re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"),
                sorted(method.upper() for method in operations),
            )
            for template, operations in templates
        ]
        app.state.methods = index
    return next((methods for pattern, methods in index if pattern.match(path)), [])


# A time of day as the API writes it (`09:30:00`): JSON Schema's "time" format wants a zone.
_TIME_OF_DAY = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$"}


def _times_as_written(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            del node["format"]
            node.update(_TIME_OF_DAY)
        for value in node.values():
            _times_as_written(value)
    elif isinstance(node, list):
        for value in node:
            _times_as_written(value)


def install(app: FastAPI) -> None:
    """Build the document once, completed from the routes' access entries (which FastAPI
    copies into each operation as `x-access`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            for error_schema in _ERROR_SCHEMAS.values():
                schemas[error_schema["title"]] = error_schema
            _times_as_written(schemas)
            components.setdefault("securitySchemes", {})["SessionCookie"] = {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "The booking API's session from POST /sessions",
            }
            for path, operations in schema["paths"].items():
                for operation in operations.values():
                    _describe_operation(path, operation, operation.get(ACCESS_KEY))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
