"""The HTTP rules of the pod API, one by one: strict paths, negotiation, merge
patch (RFC 7396 appendix A) and byte ranges (RFC 9110 14.1.2)."""

from __future__ import annotations

import pytest

from pod import InvalidPath, NotAcceptable, RangeNotSatisfiable
from vg.api.pod_http import check_raw_path, merge_patch, negotiate, parse_range

POD = "/api/v1/pods/" + "a" * 32


@pytest.mark.parametrize("path", [POD + "/", POD + "/werkcontext", POD + "/versies/1",
                                  POD + "/bestanden/intro.mp4", POD + "/postvak/"])
def test_a_plain_lower_case_path_passes(path):
    check_raw_path(path.encode())


@pytest.mark.parametrize("path", [
    POD + "/versies%2F1", POD + "/%2e%2e/werkcontext", POD + "/../werkcontext",
    POD + "/./werkcontext", POD + "//werkcontext", POD + "/Werkcontext",
    POD.upper(), POD + "/bestanden/a\\b", POD + "/bestanden/.hidden",
    "/api/v1/pods/", "/api/v1/pod/werkcontext", POD + "/werkcontext%00"])
def test_a_path_with_any_trick_is_refused(path):
    with pytest.raises(InvalidPath):
        check_raw_path(path.encode())


@pytest.mark.parametrize("accept, chosen", [
    (None, "application/ld+json"), ("*/*", "application/ld+json"),
    ("text/turtle", "text/turtle"), ("application/json", "application/json"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "application/ld+json"),
    ("application/ld+json;q=0.1, text/*", "text/turtle"),
    ("image/png, text/turtle;q=0.2", "text/turtle")])
def test_negotiation_picks_the_preferred_offered_type(accept, chosen):
    assert negotiate(accept) == chosen


@pytest.mark.parametrize("accept, chosen", [
    ("application/ld+json;q=0, */*", "application/json"),
    ("*/*;q=0.5, application/ld+json;q=0", "application/json"),
    ("application/ld+json;q=abc", "application/ld+json"),
    ("text/turtle;q=1.5;x=y", "text/turtle"),
    ("text/*;q=0, */*;q=0.1", "application/ld+json"),
    ("application/*;q=0.2, application/json;q=0.9", "application/json")])
def test_q_zero_excludes_a_type_and_a_malformed_q_is_ignored(accept, chosen):
    assert negotiate(accept) == chosen


@pytest.mark.parametrize("accept", ["image/png", "text/turtle;q=0", "text/html",
                                    "*/*;q=0", "application/*;q=0, text/turtle;q=0"])
def test_negotiation_without_an_acceptable_type_fails(accept):
    with pytest.raises(NotAcceptable):
        negotiate(accept)


@pytest.mark.parametrize("target, patch, result", [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
], ids=[f"rfc7396-{n}" for n in range(1, 15)])
def test_merge_patch_matches_the_rfc_examples(target, patch, result):
    assert merge_patch(target, patch) == result


@pytest.mark.parametrize("header, wanted", [
    (None, None), ("bytes=0-9", (0, 9)), ("bytes=10-", (10, 99)),
    ("bytes=-10", (90, 99)), ("bytes=90-500", (90, 99)), ("bytes=0-1,5-6", None),
    ("items=0-1", None), ("bytes=-", None), ("bytes=9-3", None)])
def test_a_range_header_reads_as_one_inclusive_range(header, wanted):
    assert parse_range(header, 100) == wanted


@pytest.mark.parametrize("header, size", [
    ("bytes=-0", 100), ("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=0-0", 0),
    ("bytes=-5", 0), ("bytes=0-", 0)])
def test_a_range_outside_the_resource_is_not_satisfiable(header, size):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, size)
