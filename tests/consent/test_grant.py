"""A grant names catalogue fields that each may serve every purpose it names."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from consent import (
    Audience,
    FieldNotAllowedForPurpose,
    InvalidGrant,
    InvalidSignature,
    UnknownField,
    new_grant,
)
from consent.grant import grant_from_json
from schemas.catalogue import FIELDS, PURPOSES
from tests.factories import NOW, holder_key, signed_grant

HOLDER = holder_key(1)
TO_ALL = Audience("all_municipalities")


def grant(fields, purposes=("matching",), until=NOW + timedelta(days=30), **kw):
    return new_grant(HOLDER.did, TO_ALL, list(purposes), list(fields), until, NOW, **kw)


def test_a_grant_for_email_with_purpose_matching_is_refused():
    with pytest.raises(FieldNotAllowedForPurpose) as caught:
        grant(["skills", "email"], ["matching"])

    assert (caught.value.field, caught.value.purpose) == ("email", "matching")
    assert caught.value.status == 400


def test_a_grant_for_email_with_purpose_contact_is_allowed():
    assert grant(["email"], ["contact"]).fields == ("email",)


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_every_field_is_refused_for_exactly_the_purposes_the_catalogue_excludes(
        field, purpose):
    if purpose in FIELDS[field].purposes:
        assert grant([field], [purpose]).fields == (field,)
    else:
        with pytest.raises(FieldNotAllowedForPurpose):
            grant([field], [purpose])


def test_one_disallowed_purpose_among_several_refuses_the_grant():
    with pytest.raises(FieldNotAllowedForPurpose):
        grant(["salary_scale"], ["matching", "contact"])


def test_a_field_outside_the_catalogue_is_refused():
    with pytest.raises(UnknownField) as caught:
        grant(["skills", "bsn"])

    assert caught.value.field == "bsn"


@pytest.mark.parametrize("fields, purposes, until", [
    ([], ["matching"], NOW + timedelta(days=1)),
    (["skills"], [], NOW + timedelta(days=1)),
    (["skills"], ["advertising"], NOW + timedelta(days=1)),
    (["skills"], ["matching"], NOW),
    (["skills"], ["matching"], NOW + timedelta(days=3 * 366)),
])
def test_an_incomplete_or_overlong_grant_is_refused(fields, purposes, until):
    with pytest.raises(InvalidGrant):
        grant(fields, purposes, until)


def test_a_grant_is_live_from_valid_from_until_just_before_valid_until():
    made = grant(["skills"], until=NOW + timedelta(hours=1))

    assert made.is_live(NOW)
    assert made.is_live(NOW + timedelta(minutes=59))
    assert not made.is_live(NOW + timedelta(hours=1))
    assert not made.is_live(NOW - timedelta(seconds=1))


def test_a_signed_grant_reads_back_unchanged():
    made = signed_grant(HOLDER, ["skills", "level"], purposes=("matching", "teamwork"))

    assert grant_from_json(made.to_json()) == made


def test_an_unsigned_grant_is_refused_when_read():
    with pytest.raises(InvalidSignature):
        grant_from_json(grant(["skills"]).to_json())


def test_a_grant_id_or_timestamp_with_a_trailing_line_break_is_not_one():
    """``$`` would match before a final line break; one spelling per value."""
    from consent import InvalidGrant, grant_urn
    from consent.timefmt import parse_time

    bare = "0f7cca96-a5c1-4577-be21-c0da0ca9a268"
    assert grant_urn(bare) == "urn:uuid:" + bare
    assert grant_urn(bare + "\n") == bare + "\n"
    assert grant_urn(bare.upper()) == grant_urn("URN:UUID:" + bare.upper()) == (
        "urn:uuid:" + bare)
    with pytest.raises(InvalidGrant):
        parse_time("2027-01-01T00:00:00Z\n", "validUntil")


@pytest.mark.parametrize("valid_from, until", [
    (datetime(1, 1, 1, tzinfo=timezone.utc), datetime(2, 1, 1, tzinfo=timezone.utc)),
    (datetime(1999, 6, 1, tzinfo=timezone.utc), datetime(2000, 6, 1,
                                                         tzinfo=timezone.utc)),
    (datetime(2099, 6, 1, tzinfo=timezone.utc), datetime(2100, 6, 1,
                                                         tzinfo=timezone.utc)),
])
def test_a_grant_outside_2000_to_2099_is_refused(valid_from, until):
    with pytest.raises(InvalidGrant) as caught:
        grant(["skills"], until=until, valid_from=valid_from)

    assert "2000-01-01" in str(caught.value)
