"""A HEAD is shown nothing, so it is no access to log (vg/head_requests.py): on
every route that takes GET, for every kind of caller, a HEAD appends no disclosure
and no reading to the access log, and where the GET would be logged as one, the
HEAD's answer carries no Content-Length, which would tell the size of what it was
not shown. The routes of the access log itself are among them (a DPO's reading of
the log is logged as any other access). A HEAD that is refused is logged as the
refused GET is: an attempt refused by the same checks, and no probe that leaves
no trace."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.factories import NOW
from tests.vg.test_head_requests import get_paths, request, world  # noqa: F401

# Values for the query parameters a route of the API requires (its OpenAPI
# description says which): without them the GET is refused before any reading.
REQUIRED = {"since": "2026-11-01", "until": "2026-12-31", "van": "1", "tot": "2"}


def _with_required_queries(app, client, paths: list[str]) -> list[str]:
    """``paths``, and each route that requires query parameters once more with
    them (and the log once more as CSV)."""
    described = client.get("/api/v1/openapi.json").json()["paths"]
    values = {**REQUIRED, "vaardigheid": sorted(app.state.system.reference.skills)[0]}
    more = {"/api/v1/auditlog?format=csv"}
    for template, operations in described.items():
        names = [p["name"] for p in operations.get("get", {}).get("parameters", [])
                 if p["in"] == "query" and p.get("required")]
        query = urlencode({name: values[name] for name in names})
        more.update(f"{path}?{query}" for path in paths
                    if names and _same_route(path, template))
    return sorted(set(paths) | more)


def _same_route(path: str, template: str) -> bool:
    parts, wanted = path.split("/"), template.split("/")
    return len(parts) == len(wanted) and all(
        w.startswith("{") or w == p for p, w in zip(parts, wanted))


def _not_refused(log, start: int, end: int) -> list[str]:
    """What the records from ``start`` to ``end`` say other than a refusal."""
    results = (getattr(r, "result", None) or getattr(r, "outcome", None)
               for r in map(log.record_at, range(start, end)))
    return [result for result in results if result != "refused"]


def test_no_head_appends_to_the_log_or_tells_the_size_of_a_logged_answer(world):
    app, values, callers = world
    log = app.state.system.audit
    client, _ = callers["nobody"]
    paths = _with_required_queries(app, client, get_paths(app, values))
    logged_reads, wrong = set(), {}

    for caller, (client, headers) in callers.items():
        for path in paths:
            before = log.head().size
            head = request(client, "HEAD", path, headers)
            after_head = log.head().size
            request(client, "GET", path, headers)
            if shown := _not_refused(log, before, after_head):
                wrong[caller, path] = f"the HEAD appended {shown}"
            elif _not_refused(log, after_head, log.head().size):
                logged_reads.add(path)
                if "content-length" in head.headers:
                    wrong[caller, path] = "Content-Length " + head.headers[
                        "content-length"]

    assert NOW.year == 2026  # the dates of REQUIRED lie around the world's clock
    assert {"/api/v1/auditlog", "/api/v1/auditlog?format=csv", "/fg",
            "/fg/signalen"} <= logged_reads
    assert any(p.startswith("/api/v1/auditlog/signalen?") for p in logged_reads)
    assert any(p.startswith("/api/v1/collegas?") for p in paths)
    assert wrong == {}
