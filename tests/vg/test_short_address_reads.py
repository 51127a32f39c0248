"""``GET /pod/werkcontext`` is the Workcontext under a shorter address: a read there
evaluates If-None-Match and If-Match as ``/pods/{pod_id}/werkcontext`` does (README:
"it answers the ETag and evaluates If-Match and If-None-Match as
/pods/{pod_id}/werkcontext does")."""

from __future__ import annotations

import pytest

from tests.vg.test_pod_api import api, holder  # noqa: F401

SHORT = "/api/v1/pod/werkcontext"


@pytest.mark.parametrize("header", ["current", "*", "listed"])
def test_a_read_at_the_short_address_with_a_matching_if_none_match_is_304(
        api, holder, header):  # noqa: F811
    etag = api.get(SHORT, headers=holder.headers).headers["etag"]
    value = {"current": etag, "*": "*", "listed": f'"x", {etag}'}[header]

    answer = api.get(SHORT, headers={**holder.headers, "If-None-Match": value})

    assert answer.status_code == 304
    assert answer.content == b""


def test_a_read_at_the_short_address_under_a_stale_if_match_is_412(
        api, holder):  # noqa: F811
    answer = api.get(SHORT, headers={**holder.headers,
                                     "If-Match": '"1-0000000000000000"'})

    assert answer.status_code == 412
    assert answer.json()["code"] == "precondition-failed"


def test_a_read_at_the_short_address_with_a_weak_matching_tag_is_304(
        api, holder):  # noqa: F811
    etag = api.get(SHORT, headers=holder.headers).headers["etag"]

    answer = api.get(SHORT, headers={**holder.headers, "If-None-Match": f"W/{etag}"})

    assert answer.status_code == 304
    assert answer.headers["etag"] == etag


def test_a_read_at_the_short_address_whose_conditions_hold_answers_the_document(
        api, holder):  # noqa: F811
    etag = api.get(SHORT, headers=holder.headers).headers["etag"]

    answer = api.get(SHORT, headers={**holder.headers, "If-Match": etag,
                                     "If-None-Match": '"1-0000000000000000"'})

    assert answer.status_code == 200
    assert answer.headers["etag"] == etag
    assert answer.json() == api.get(SHORT, headers=holder.headers).json()
