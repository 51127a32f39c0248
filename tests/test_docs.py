"""The GDPR documents in docs/gdpr state what the code does.

Each test takes a fact from the code (the field catalogue, the purposes, the audience
kinds, the routes of the application, the processing-activity IRI, the security
parameters, the audit and registry columns) and checks that the documents state the
same fact. A change to the code that the documents do not follow fails here.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import nacl.secret
import pytest

from audit import AuditEntry
from consent.audience import KINDS, MAX_LISTED
from consent.grant import MAX_VALIDITY
from pod import crypto
from registry.db import registry_tables
from registry.ingest import pseudonym_for
from registry.service import MATCH_ACTIVITY
from schemas import FIELDS, PURPOSES, Sensitivity
from schemas.jsonld import MAX_DEPTH, MAX_DOCUMENT_BYTES, MAX_NODES
from vg.app import create_app
from vg.middleware import HeadersAndLimits
from vg.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs" / "gdpr"
INDEX = "README.md"
RECORDS = "records-of-processing.md"
FLOWS = "data-flows.md"
API_PREFIX = "/api/v1"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# -- reading Markdown ---------------------------------------------------------------


def _headings(text: str) -> list[tuple[int, str]]:
    """(level, title) of every heading outside fenced code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"^(#{1,6}) (.+?)\s*$", line)):
            found.append((len(match.group(1)), match.group(2)))
    return found


def _section(text: str, title: str) -> str:
    """The text under the heading ``title``, up to the next heading of its level."""
    lines = text.splitlines()
    for start, line in enumerate(lines):
        match = re.match(r"^(#{1,6}) (.+?)\s*$", line)
        if match and match.group(2) == title:
            level = len(match.group(1))
            break
    else:
        raise AssertionError(f"no heading {title!r}")
    body = []
    for line in lines[start + 1:]:
        match = re.match(r"^(#{1,6}) ", line)
        if match and len(match.group(1)) <= level:
            break
        body.append(line)
    return "\n".join(body)


def _cells(row: str) -> list[str]:
    """Split a table row on unescaped pipes (GitHub splits inside code spans too)."""
    parts = re.split(r"(?<!\\)\|", row.strip())
    return [p.strip().replace("\\|", "|") for p in parts[1:-1]]


def _table(section: str) -> list[list[str]]:
    """The body rows of the first table in ``section``, cells without backticks."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) > 2, "the section holds no table"
    return [[c.replace("`", "") for c in _cells(r)] for r in rows[2:]]


def _slug(title: str) -> str:
    """The anchor GitHub gives a heading."""
    kept = re.sub(r"[^\w\- ]", "", title.lower())
    return kept.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for _, title in _headings(text):
        slug = _slug(title)
        count = seen.get(slug, 0)
        anchors.add(slug if count == 0 else f"{slug}-{count}")
        seen[slug] = count + 1
    return anchors


# -- the application's routes -------------------------------------------------------


def _route_paths(routes) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, also those inside included routers."""
    found = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            found.extend((c.path, set(c.methods or ())) for c in contexts())
        elif getattr(route, "routes", None):
            found.extend(_route_paths(route.routes))
        elif getattr(route, "path", None):
            found.append((route.path, set(getattr(route, "methods", None) or ())))
    return found


@pytest.fixture(scope="module")
def api_routes(tmp_path_factory) -> set[tuple[str, str]]:
    """(method, path) of every route under /api/v1 except the OpenAPI pages."""
    data_dir = tmp_path_factory.mktemp("docs-app")
    app = create_app(Settings(data_dir=data_dir, kdf_level="interactive"))
    pages = {app.openapi_url, app.docs_url, app.redoc_url,
             app.swagger_ui_oauth2_redirect_url}
    routes = {
        (method, path)
        for path, methods in _route_paths(app.routes)
        if path.startswith(API_PREFIX) and path not in pages
        for method in methods - {"HEAD"}
    }
    assert routes, "no /api/v1 routes were found in app.routes"
    return routes


# -- the index ----------------------------------------------------------------------


def test_the_index_links_every_gdpr_document():
    index = _read(INDEX)
    for document in sorted(DOCS.glob("*.md")):
        if document.name != INDEX:
            assert f"]({document.name}" in index, f"{document.name} is not in the index"


def test_every_relative_link_and_anchor_in_the_documents_resolves():
    for document in sorted(DOCS.glob("*.md")):
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            name, _, anchor = target.partition("#")
            linked = DOCS / name if name else document
            assert linked.exists(), f"{document.name} links to missing {name}"
            if anchor:
                anchors = _anchors(linked.read_text(encoding="utf-8"))
                assert anchor in anchors, f"{document.name} links to missing #{anchor}"


# -- records of processing ----------------------------------------------------------


def test_every_field_key_and_purpose_key_appears_in_the_records():
    records = _read(RECORDS)
    for key in (*FIELDS, *PURPOSES):
        assert f"`{key}`" in records, f"{key} is missing from {RECORDS}"


def test_the_field_catalogue_table_matches_the_catalogue_exactly():
    rows = _table(_section(_read(RECORDS), "Personal data: the field catalogue"))
    documented = {
        key: (path, label, sensitivity, {a.strip() for a in allowed.split(",")})
        for key, path, label, sensitivity, allowed in rows
    }
    in_code = {
        f.key: (f.dotted_path, f.label_en, f.sensitivity.value, set(f.purposes))
        for f in FIELDS.values()
    }
    assert documented == in_code


def test_every_sensitivity_class_is_named_in_the_records():
    records = _read(RECORDS)
    for sensitivity in Sensitivity:
        assert f"| {sensitivity.value} |" in records


def test_the_purpose_table_matches_the_purposes_and_their_dpv_iris():
    rows = _table(_section(_read(RECORDS), "Purposes"))
    documented = {key: (iri, broader, label) for key, iri, broader, label in rows}
    in_code = {p.key: (p.iri, p.dpv_broader, p.label_en) for p in PURPOSES.values()}
    assert documented == in_code


def test_the_audience_table_names_every_audience_kind_and_no_other():
    rows = _table(_section(_read(RECORDS), "Recipients: audiences"))
    assert [row[0] for row in rows] == list(KINDS)
    assert f"1 to {MAX_LISTED} organisation codes" in _read(RECORDS)


def test_the_matching_processing_activity_iri_is_documented():
    assert MATCH_ACTIVITY in _section(_read(RECORDS), "A3 Matching for assignments")
    assert MATCH_ACTIVITY in _read(FLOWS)


def test_the_records_state_the_argon2id_cost_the_code_uses():
    records = _read(RECORDS)
    for ops, mem in (crypto.MODERATE, crypto.INTERACTIVE):
        stated = f"opslimit {ops} and memlimit {mem} bytes ({mem // 2**20} MiB)"
        assert stated in records
    assert f"random {crypto.SALT_BYTES}-byte salt" in records
    assert f"random {nacl.secret.Aead.NONCE_SIZE}-byte nonce" in records


def test_the_records_state_the_size_limits_the_code_enforces():
    records = _read(RECORDS)
    max_body = inspect.signature(HeadersAndLimits).parameters["max_body"].default
    assert f"{max_body} bytes ({max_body // 1024} KiB)" in records
    assert f"{MAX_DOCUMENT_BYTES} bytes" in records
    assert f"nesting depth of {MAX_DEPTH} and {MAX_NODES} values" in records


def test_the_records_state_session_lifetime_grant_validity_and_pseudonym_length():
    records = _read(RECORDS)
    session = Settings.model_fields["session_minutes"]
    longest = next(m.le for m in session.metadata if getattr(m, "le", None))
    assert f"default {session.default} minutes, at most {longest}" in records
    assert f"({MAX_VALIDITY.days} days" in records
    hex_chars = len(pseudonym_for(bytes(32), "did:key:z6Mkexample"))
    assert f"first {hex_chars} hex" in records and f"({hex_chars * 4} bits)" in records


# -- data flows ---------------------------------------------------------------------


def test_every_api_route_path_appears_in_the_data_flows(api_routes):
    flows = _read(FLOWS)
    for _, path in sorted(api_routes):
        assert f"`{path}`" in flows, f"{path} is missing from {FLOWS}"


def test_the_route_table_lists_exactly_the_routes_of_the_application(api_routes):
    rows = _table(_section(_read(FLOWS), "HTTP routes"))
    assert {(row[0], row[1]) for row in rows} == api_routes


def test_every_api_path_named_in_the_documents_exists(api_routes):
    paths = {path for _, path in api_routes}
    for document in sorted(DOCS.glob("*.md")):
        text = document.read_text(encoding="utf-8")
        for path in re.findall(r"(/api/v1/[A-Za-z0-9_{}/.-]*[A-Za-z0-9_}/])", text):
            known = path in paths or path in ("/api/v1/openapi.json", "/api/v1/docs")
            assert known, f"{document.name} names {path}, which the app does not have"


def test_the_audit_entry_table_lists_exactly_the_columns_of_an_entry():
    rows = _table(_section(_read(FLOWS), "8. Audit entry before the answer"))
    assert {row[0] for row in rows} == {f.name for f in dataclasses.fields(AuditEntry)}


def test_the_registry_table_list_matches_the_registry_schema():
    rows = _table(_section(_read(FLOWS), "4. Registry tables"))
    assert {row[0] for row in rows} == {t.name for t in registry_tables()}
