"""Organisation pseudonyms: one holder, a different name per organisation, each
turning back into the registry's pseudonym only under its own organisation's key."""

from __future__ import annotations

import pytest

from registry.errors_work import CandidateNotFound, InvalidWorkInput
from registry.org_pseudonyms import NAME_LENGTH, OrgPseudonyms
from registry.peers import FREELANCE

SECRET = bytes(range(32))
PSEUDONYM = "0123456789abcdef0123456789abcdef"


def test_each_organisation_gets_its_own_stable_name_for_one_holder():
    names = OrgPseudonyms(SECRET)

    utrecht = names.shown("GM0344", PSEUDONYM)
    groningen = names.shown("GM0014", PSEUDONYM)

    assert utrecht != groningen and len(utrecht) == NAME_LENGTH
    assert utrecht == names.shown("GM0344", PSEUDONYM)
    assert PSEUDONYM not in utrecht
    assert names.named("GM0344", utrecht) == PSEUDONYM
    assert names.named("GM0344", utrecht.upper()) == PSEUDONYM


def test_a_name_of_another_organisation_is_an_unknown_person():
    names = OrgPseudonyms(SECRET)

    with pytest.raises(CandidateNotFound):
        names.named("GM0014", names.shown("GM0344", PSEUDONYM))


def test_a_name_under_another_deployment_s_secret_is_an_unknown_person():
    theirs = OrgPseudonyms(bytes(32)).shown("GM0344", PSEUDONYM)

    with pytest.raises(CandidateNotFound):
        OrgPseudonyms(SECRET).named("GM0344", theirs)


def test_a_second_spelling_of_the_last_character_is_unknown():
    names = OrgPseudonyms(SECRET)
    name = names.shown("GM0344", PSEUDONYM)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    other = alphabet[alphabet.index(name[-1]) ^ 1]  # a low bit base32 does not use

    with pytest.raises(CandidateNotFound):
        names.named("GM0344", name[:-1] + other)


@pytest.mark.parametrize("text", [PSEUDONYM, "", "a" * 51, "a" * 53, "1" * 52])
def test_text_that_is_not_written_as_a_name_is_the_caller_s_mistake(text):
    with pytest.raises(InvalidWorkInput):
        OrgPseudonyms(SECRET).named("GM0344", text)


def test_the_unknown_answer_is_the_caller_s_to_choose():
    class Stranger(Exception):
        pass

    with pytest.raises(Stranger):
        OrgPseudonyms(SECRET).named("GM0344", "a" * 52, lambda _: Stranger())


def test_each_organisation_gets_its_own_address_for_one_video_copy():
    names = OrgPseudonyms(SECRET)
    share = "fedcba9876543210fedcba9876543210"

    utrecht = names.video_name("GM0344", share)
    groningen = names.video_name("GM0014", share)

    assert utrecht != groningen and len(utrecht) == NAME_LENGTH
    assert share not in utrecht and utrecht == names.video_name("GM0344", share)
    assert names.video_share("GM0344", utrecht) == share
    assert names.video_share("GM0014", utrecht) is None


@pytest.mark.parametrize("address", [
    "fedcba9876543210fedcba9876543210", "x" * NAME_LENGTH, "", None, "a" * 500])
def test_anything_but_an_organisation_s_own_video_address_opens_to_nothing(address):
    assert OrgPseudonyms(SECRET).video_share("GM0344", address) is None


def test_a_video_address_is_not_a_name_of_a_holder_and_back():
    names = OrgPseudonyms(SECRET)

    video = names.video_name("GM0344", PSEUDONYM)
    holder = names.shown("GM0344", PSEUDONYM)

    assert video != holder
    assert names.video_share("GM0344", holder) is None
    with pytest.raises(CandidateNotFound):
        names.named("GM0344", video)


@pytest.mark.parametrize("use", [
    lambda names: names.shown(FREELANCE, PSEUDONYM),
    lambda names: names.named(FREELANCE, "a" * NAME_LENGTH),
    lambda names: names.video_name(FREELANCE, PSEUDONYM),
    lambda names: names.video_share(FREELANCE, "a" * NAME_LENGTH),
    lambda names: names.grant_name(FREELANCE, "urn:uuid:grant"),
    lambda names: names.tie_key(FREELANCE, PSEUDONYM),
], ids=["name", "named", "video-address", "video-share", "grant-name", "tie-key"])
def test_freelance_is_no_organisation_and_gets_no_key(use):
    """Every freelancer is requester ``freelance``: one key of that name would give
    them all one name of a colleague, one address of their video, one order."""
    with pytest.raises(ValueError, match="freelance is no organisation"):
        use(OrgPseudonyms(SECRET))
