"""Bad input over every operation that takes text, numbers, dates or files: a NUL byte, a
lone surrogate, an over-long string, a number past the database's range, a far-off date,
a decompression bomb. Each is a 4xx naming the field — never a 5xx — and nothing is stored.

The operations come from the OpenAPI document; each starts from the valid request the
permission matrix makes (as an admin, so the bad value is what gets judged), with one
value at a time replaced."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.api.conftest import LiveServer
from tests.api.permission_world import World, build_world
from tests.api.test_permissions import RECIPES, Request
from tests.services.support import table_counts

ROLE = "admin"
BAD_TEXT = {"NUL byte": "a\x00b", "over-long text": "x" * 100_000}
BAD_NUMBERS = {"number past 32 bits": 2**31, "huge number": 2**70}
BAD_DATES = {"far-off date": "9999-12-31", "ancient date": "0001-01-01"}
BAD_INSTANTS = {"far-off time": "9999-12-31T23:59:00+00:00", "ancient time": "0001-01-01T00:00"}
# The desk API's JSON bodies take values of the type their schema names, not look-alikes
# pydantic would coerce (schemathesis found 0 taken for a flag).
WRONG_JSON_TYPES = {
    "integer": {"number as text": "1", "number with a fraction": 1.0, "true as a number": True},
    "boolean": {"number as a flag": 0, "text as a flag": "yes"},
}


def _bomb() -> bytes:
    """A PNG of 20,000 x 20,000 pixels of one colour: tiny to send, 400 MB to decode."""
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")
    return buffer.getvalue()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].split("/")[-1]]
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """The JSON types (and formats) a value may have."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, option) for option in node["anyOf"]))
    if node.get("type") == "array":
        return {f"array of {kind}" for kind in _types(schema, node.get("items", {}))}
    if node.get("format") in ("date", "date-time", "binary", "time"):
        return {node["format"]}
    return {node.get("type", "any")}


def _bad_values(types: set[str], where: str, path: str = "") -> dict[str, Any]:
    bad: dict[str, Any] = {}
    if path.startswith("/desk/") and where == "application/json":
        for kind, values in WRONG_JSON_TYPES.items():
            if types == {kind} or types == {kind, "null"}:
                bad.update(values)
    if "string" in types:
        bad.update(BAD_TEXT)
        if where in ("query", "path"):  # a URL stays under the client's own limit
            bad["over-long text"] = "x" * 5000
    if "integer" in types:
        bad.update(BAD_NUMBERS)
    if "date" in types:
        bad.update(BAD_DATES)
    if "date-time" in types:
        bad.update(BAD_INSTANTS)
    if "array of integer" in types:
        bad["list with a number past 32 bits"] = [2**31]
    return bad


def _fields(schema: dict[str, Any], operation: dict[str, Any]) -> Iterator[tuple[str, str, set]]:
    """(where, name, types) of every value the operation takes."""
    for parameter in operation.get("parameters", []):
        yield parameter["in"], parameter["name"], _types(schema, parameter["schema"])
    content = operation.get("requestBody", {}).get("content", {})
    for media_type, description in content.items():
        body = _resolve(schema, description["schema"])
        if body.get("type") == "array":
            body = _resolve(schema, body["items"])
            media_type = "application/json list"
        for name, node in body.get("properties", {}).items():
            yield media_type, name, _types(schema, node)


def _mutated(request: Request, where: str, name: str, value: Any, template: str) -> Request | None:
    """The valid request with one value replaced (None: this request does not send it)."""
    if where == "path":
        # The segment the operation's path names `{name}`, when it is a number (an id); a
        # word there (a list's name, such as `/catalogue/{kind}`) is one of a fixed set.
        segments = request.path.split("/")
        named = template.split("/")
        if len(named) != len(segments) or "{" + name + "}" not in named:
            return None
        index = named.index("{" + name + "}")
        if not segments[index].isdigit():
            return None
        segments[index] = str(value)
        return Request("/".join(segments), request.params, request.json, request.data)
    if where == "query":
        return Request(request.path, {**(request.params or {}), name: value}, request.json)
    if where == "application/json":
        body = dict(request.json or {})
        body[name] = value
        return Request(request.path, request.params, body, request.data)
    if where == "application/json list":
        items = [dict(item) for item in (request.json or [{}])]
        items[0][name] = value
        return Request(request.path, request.params, items, request.data)
    if isinstance(value, int | list):
        value = json.dumps(value) if isinstance(value, list) else str(value)
    return Request(
        request.path, request.params, request.json, {**(request.data or {}), name: value}
    )


def _send(world: World, method: str, request: Request, files: Any = None) -> httpx.Response:
    with world.api.client(world.people[ROLE].token) as client:
        return client.request(
            method,
            request.path,
            params=request.params,
            json=request.json,
            data=request.data,
            files=files,
            timeout=60,
        )


@pytest.mark.slow
def test_bad_values_in_every_field_are_refused_and_store_nothing(
    serve: Callable[..., LiveServer],
) -> None:
    api = serve(max_holds_per_patient=1000, max_online_bookings_per_patient=1000)
    # Building the document takes a second or more on a busy machine (httpx waits 5 s).
    schema = httpx.get(f"{api.url}/openapi.json", timeout=60).json()
    world = build_world(api)
    problems: list[str] = []
    tried = 0
    for path, methods in sorted(schema["paths"].items()):
        for method, operation in methods.items():
            recipe = RECIPES[(method.upper(), path)][0]
            if recipe.stream or recipe.login or recipe.fresh_world:
                continue
            for where, name, types in _fields(schema, operation):
                for problem, value in _bad_values(types, where, path).items():
                    request = _mutated(recipe.call(world, ROLE), where, name, value, path)
                    if request is None:
                        continue
                    before = table_counts(world.clinic)
                    answer = _send(world, method.upper(), request)
                    tried += 1
                    what = f"{method.upper()} {path} with {problem} in {where} {name!r}"
                    if not 400 <= answer.status_code < 500:
                        problems.append(f"{what}: {answer.status_code} {answer.text[:120]}")
                    elif table_counts(world.clinic) != before:
                        problems.append(f"{what}: refused, but something was stored")
    assert not problems, f"{len(problems)} of {tried}:\n" + "\n".join(problems)
    assert tried > 150


LONE_SURROGATE = '"\\ud800"'


def test_lone_surrogates_in_json_are_a_400_naming_the_field(api: LiveServer) -> None:
    world = build_world(api)
    token = world.people[ROLE].token
    cases = [
        ("POST", "/api/user/login/", '{"username": %s, "password": "x"}', "username"),
        ("POST", "/contacts/", '{"name": %s, "phone": "0700111222", "massage": "m"}', "name"),
        ("POST", "/desk/v1/patients", '{"full_name": %s}', "full_name"),
        ("POST", "/patients", '{"username": "u1", "password": "pw-123456", "full_name": %s}', ""),
    ]
    before = table_counts(world.clinic)
    with api.client(token) as client:
        for method, path, template, field in cases:
            answer = client.request(
                method,
                path,
                content=(template % LONE_SURROGATE).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert answer.status_code == 400, (path, answer.text)
            assert field in answer.text
    assert table_counts(world.clinic) == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/user/profiles/{profile}/", "profile_picture"),
        ("/patients/{patient}/", "profile"),
        ("/services/{service}/", "image"),
    ],
)
def test_uploads_of_decompression_bombs_are_refused(api: LiveServer, path: str, field: str) -> None:
    world = build_world(api)
    target = path.format(
        profile=world.profile_id("patient"), patient=world.patient_a.id, service=world.service_id
    )
    before = table_counts(world.clinic)
    with api.client(world.people[ROLE].token) as client:
        answer = client.patch(target, files={field: ("bomb.png", _bomb(), "image/png")})
    assert answer.status_code == 400 and "megapixels" in answer.text, answer.text
    assert table_counts(world.clinic) == before


def test_huge_bodies_are_refused_before_they_are_read(serve: Callable[..., LiveServer]) -> None:
    api = serve(max_json_bytes=64 * 1024, image_max_bytes=256 * 1024)
    world = build_world(api)
    before = table_counts(world.clinic)
    with api.client(world.people[ROLE].token) as client:
        # Announced as large: refused from the header alone.
        announced = client.post(
            "/contacts/",
            content=b"{" + b" " * (10 * 1024 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )
        assert announced.status_code == 400 and "too large" in announced.json()["detail"]

        # Sent in chunks without a length: cut off as soon as it passes the limit.
        def chunks() -> Iterator[bytes]:
            yield b'{"name": "x", "phone": "0700111222", "massage": "'
            for _ in range(1000):
                yield b"y" * 64 * 1024
            yield b'"}'

        streamed = client.post(
            "/contacts/", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 400 and "too large" in streamed.json()["detail"]
        # An upload may be as large as a picture, no larger.
        upload = client.patch(
            f"/services/{world.service_id}/",
            files={"image": ("big.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024), "image/png")},
        )
        assert upload.status_code == 400, upload.text
        desk = client.post("/desk/v1/patients/duplicates", json={"full_name": "x" * (128 * 1024)})
        assert desk.status_code == 400 and desk.json()["kind"] == "invalid"
    assert table_counts(world.clinic) == before
