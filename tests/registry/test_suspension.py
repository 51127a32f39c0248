"""A disclosure its holder's employer's policy suspends is shown to no other
organisation (ranking, fields, intro video, colleagues), stays as it was for the
suspending employer, comes back everywhere when the policy allows it again, and
goes with the holder's withdrawal or erasure like any other."""

from __future__ import annotations

from sqlalchemy import select

from consent import KINDS, Audience, EmployerPolicy, format_time, sign_document
from consent.video_share import share_address
from registry.errors import VideoNotFound
from registry.peers import HOLDER_ROLE
from registry.gate import Requester
from registry.tables_match import MatchDisclosure
from tests.factories import (
    AMSTERDAM,
    NOW,
    UTRECHT,
    assignment,
    disclosure,
    disclosure_rows,
    full_workcontext,
    holder_key,
    signed_grant,
    skill_pool,
    staff_requester,
    trace_id,
    withdrawal,
)
from tests.registry.test_video_shares import copy

KEY = holder_key(31)
SHARE = "cd" * 16
POOL = Audience("cross_sector")
PURPOSES = ("matching", "knowledge_sharing")
FIELDS = ["skills", "level", "intro_video"]
NO_POOL = EmployerPolicy(UTRECHT, frozenset(KINDS) - {"cross_sector"})
NO_LISTS = EmployerPolicy(UTRECHT, frozenset(KINDS) - {"organisation"})
EVERYTHING = EmployerPolicy(UTRECHT, frozenset(KINDS))


def _published(system, to=POOL, employed=True):
    """KEY, employed by Utrecht (attested, unless ``employed`` is false), grants
    ``to`` its skills, level and intro video for matching and knowledge sharing;
    the copy of the video is received."""
    if employed:
        system.registry.employment.attest(UTRECHT, KEY.did, NOW)
    document = full_workcontext(KEY.did, employer=UTRECHT)
    document["introVideo"]["contentUrl"] = share_address("https://vg.example/", SHARE)
    grant = signed_grant(KEY, FIELDS, purposes=PURPOSES, to=to)
    system.registry.receive_disclosure(disclosure(KEY, grant, 1, document), NOW)
    offer, chunks = copy(system, grant, key=KEY, share=SHARE)
    system.registry.receive_video_share(offer, iter(chunks), NOW)
    return grant


def _seen(system, organisation: str, job_of: dict) -> dict[str, bool]:
    """What ``organisation`` is shown of KEY on each path that reads disclosures."""
    registry = system.registry
    staff = staff_requester(system, organisation)
    if organisation not in job_of:
        job_of[organisation] = assignment(system, staff).id
    page = registry.candidates(staff, job_of[organisation], NOW, trace_id(1))
    try:
        address = registry.videos.address(organisation, SHARE)
        registry.videos.watch(staff, address, "matching", NOW, trace_id(2),
                              lambda stored: None)
        video = True
    except VideoNotFound:
        video = False
    colleague = Requester(organisation, "c" * 32, HOLDER_ROLE)
    found = system.work.peers.search(colleague, list(skill_pool()[:2]), NOW,
                                     trace_id(3))
    return {"ranking": len(page.candidates) == 1,
            "fields": bool(registry.gate.visible(staff, "matching", NOW)),
            "video": video,
            "colleagues": len(found) == 1}


ALL = {"ranking": True, "fields": True, "video": True, "colleagues": True}
NONE = dict.fromkeys(ALL, False)


def test_a_suspended_disclosure_is_shown_to_the_suspending_employer_alone(system):
    _published(system)
    jobs: dict = {}
    before = {org: _seen(system, org, jobs) for org in (UTRECHT, AMSTERDAM)}

    system.registry.policies.set_policy(NO_POOL, NOW)

    assert before == {UTRECHT: ALL, AMSTERDAM: ALL}
    assert _seen(system, AMSTERDAM, jobs) == NONE
    assert _seen(system, UTRECHT, jobs) == ALL


def test_a_later_policy_that_allows_the_grant_shows_it_everywhere_again(system):
    _published(system)
    jobs: dict = {}
    _seen(system, AMSTERDAM, jobs)  # the ranking's index is loaded before

    system.registry.policies.set_policy(NO_POOL, NOW)
    system.registry.policies.set_policy(EVERYTHING, NOW)

    assert _seen(system, AMSTERDAM, jobs) == ALL
    assert _seen(system, UTRECHT, jobs) == ALL


def test_a_suspended_grant_the_employer_is_not_in_reaches_no_one_until_lifted(
        system):
    _published(system, to=Audience("organisation", organisations=[AMSTERDAM]))
    jobs: dict = {}

    system.registry.policies.set_policy(NO_LISTS, NOW)
    during = {org: _seen(system, org, jobs) for org in (UTRECHT, AMSTERDAM)}
    system.registry.policies.set_policy(EVERYTHING, NOW)

    assert during == {UTRECHT: NONE, AMSTERDAM: NONE}
    assert _seen(system, AMSTERDAM, jobs) == ALL
    assert _seen(system, UTRECHT, jobs) == NONE


def test_withdrawing_a_suspended_grant_deletes_it_for_good(system):
    grant = _published(system)
    system.registry.policies.set_policy(NO_POOL, NOW)

    system.registry.receive_withdrawal(withdrawal(KEY, grant, 2), NOW)
    system.registry.policies.set_policy(EVERYTHING, NOW)

    assert disclosure_rows(system.registry.engine) == []
    assert _index_rows(system) == []
    assert system.registry.videos.shares.stored(SHARE) is None
    assert _seen(system, UTRECHT, {}) == NONE


def test_erasing_a_holder_deletes_their_suspended_disclosures(system):
    _published(system)
    system.registry.policies.set_policy(NO_POOL, NOW)
    request = sign_document({"type": "ErasureRequest", "holder": KEY.did,
                             "sequence": 2, "issued": format_time(NOW)}, KEY)

    erased = system.registry.receive_erasure(request, NOW)
    system.registry.policies.set_policy(EVERYTHING, NOW)

    assert erased.disclosures == 1
    assert disclosure_rows(system.registry.engine) == []
    assert _index_rows(system) == []
    assert system.registry.policies.notices(KEY.did) == []
    assert _seen(system, AMSTERDAM, {}) == NONE


def _index_rows(system) -> list:
    with system.registry.engine.connect() as conn:
        return conn.execute(select(MatchDisclosure.__table__)).all()

