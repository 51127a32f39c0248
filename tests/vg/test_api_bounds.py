"""Every input the API declares is bounded: integers by a maximum, strings by a
length, arrays by a count; a value past the bound is 400 and never reaches the
database."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from vg.app import create_app
from vg.settings import Settings


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("bounds"),
                              kdf_level="interactive"))
    return app.openapi()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def _unbounded(spec: dict, schema: dict, where: str, seen: set) -> list[str]:
    """Where the schema admits a value of any size."""
    schema = _resolve(spec, schema)
    key = id(schema)
    if key in seen:
        return []
    seen.add(key)
    found = []
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        found += _unbounded(spec, branch, where, seen)
    kind = schema.get("type")
    if kind == "integer" and "maximum" not in schema and "enum" not in schema:
        found.append(f"{where}: integer without maximum")
    if kind == "number" and "maximum" not in schema:
        found.append(f"{where}: number without maximum")
    if kind == "string" and not ({"maxLength", "enum", "const", "format"} & set(schema)
                                 or _bounded_pattern(schema.get("pattern"))):
        found.append(f"{where}: string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: array without maxItems")
        found += _unbounded(spec, schema.get("items", {}), f"{where}[]", seen)
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(spec, sub, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        if kind == "object" and "maxProperties" not in schema:
            found.append(f"{where}: object without maxProperties")
        found += _unbounded(spec, extra, f"{where}{{}}", seen)
        names = schema.get("propertyNames")
        if names:
            found += _unbounded(spec, names, f"{where}{{name}}", seen)
    return found


def _bounded_pattern(pattern: str | None) -> bool:
    """An anchored pattern with no unbounded repetition bounds the length."""
    return bool(pattern) and pattern.startswith("^") and pattern.endswith("$") and not (
        set("*+") & set(pattern) or re.search(r"\{\d*,\}", pattern))


def _guarded(path: str, parameter: dict) -> bool:
    """Headers are bounded by the server's request-head limit; every address under
    /api/v1/pods/ passes the pod path guard before routing."""
    return parameter["in"] == "header" or (
        parameter["in"] == "path" and path.startswith("/api/v1/pods/"))


def test_every_parameter_is_bounded(spec):
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if _guarded(path, parameter):
                    continue
                where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                found += _unbounded(spec, parameter.get("schema", {}), where, set())
    assert found == []


def test_every_request_body_field_is_bounded(spec):
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media, body in content.items():
                where = f"{method.upper()} {path} {media}"
                found += _unbounded(spec, body.get("schema", {}), where, set())
    assert found == []
