"""The in-memory match index follows the database exactly: after every kind of
change (single and bulk ingest, replacement, withdrawal, expiry, an employer's
policy change, erasure) the next ranking equals the Python scorer's on the rows
the gate reads from the database, and equals a freshly loaded index's."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from bench.registry_synth import generate
from consent import Audience, EmployerPolicy
from consent.errors import AudienceRefusedByEmployer
from consent.policy import KINDS
from registry import MATCHING, AssignmentSpec, Requester
from registry.match_memory import MatchIndex
from registry.match_scoring import rank
from registry.matching import Matcher
from tests.factories import (
    NOW,
    UTRECHT,
    disclosure,
    full_workcontext,
    holder_key,
    reference,
    signed_grant,
    skill_pool,
    withdrawal,
)
from tests.registry.test_erasure import erasure

NEIGHBOUR = "GM0307"  # Amersfoort, in Utrecht's province
AUDIENCES = [
    {"kind": "employer_and_neighbours", "employer": UTRECHT},
    {"kind": "province", "province": "PV26"},
    {"kind": "all_municipalities"},
    {"kind": "employer", "employer": UTRECHT},
    {"kind": "organisations", "organisations": [UTRECHT, NEIGHBOUR]},
    {"kind": "organisations", "organisations": [NEIGHBOUR]},
]
FIELDS = ["skills", "level", "hours_per_week", "available_period", "employer"]


def python_ranking(registry, requester, job, now):
    """The reference: every visible candidate's columns from the database,
    scored in Python."""
    matcher = Matcher(job, registry.relations, registry.circles)
    signals = registry.gate.signals(requester, MATCHING, now,
                                    matcher.skills_to_look_for())
    passed = registry.assignments.passed(job.id)
    return [(s.pseudonym, s.score) for s in matcher.rank(
        signals, passed, tie=lambda p: registry.org_pseudonyms.tie_key(
            requester.organisation, p))]


def ties(registry, requester):
    """The tie keys of the requester's organisation, as the registry ranks by."""
    return lambda raw: registry.org_pseudonyms.tie_keys(requester.organisation, raw)


def fresh_ranking(registry, requester, job, now):
    """The same ranking on an index loaded from scratch."""
    index = MatchIndex(registry.engine, MATCHING)
    matcher = Matcher(job, registry.relations, registry.circles)
    with index.locked():
        return rank(index, matcher, registry.gate.rankable(requester, MATCHING, now),
                    registry.assignments.passed(job.id), None, None,
                    ties(registry, requester)).page


class World:
    """Holders publishing, re-publishing, withdrawing and erasing at random."""

    def __init__(self, registry, rng: random.Random):
        self.registry, self.rng = registry, rng
        self.sequence: dict[int, int] = {}
        self.grants: dict[int, list] = {}
        self.erased: set[int] = set()
        self.employed: dict[int, str] = {}  # holder: Utrecht's reference

    def _next(self, n: int) -> int:
        self.sequence[n] = self.sequence.get(n, 0) + 1
        return self.sequence[n]

    def _document(self, n: int, grant):
        rng = self.rng
        workcontext = full_workcontext(
            holder_key(n).did, skills=tuple(rng.sample(skill_pool()[:8], 3)),
            level_rank=rng.randint(1, 5), hours_per_week=rng.choice([8, 24, 36]),
            employer=self._employer(n))
        return disclosure(holder_key(n), grant, self._next(n), workcontext)

    @staticmethod
    def _employer(n: int) -> str:
        return (UTRECHT, NEIGHBOUR)[n % 2]

    def _grant(self, n: int):
        rng = self.rng
        fields = ["skills"] + rng.sample(FIELDS[1:], rng.randint(0, 4))
        chosen = dict(rng.choice(AUDIENCES))
        if "employer" in chosen:
            chosen["employer"] = self._employer(n)
        return signed_grant(holder_key(n), fields, to=chosen,
                            lifetime=timedelta(days=rng.randint(3, 60)))

    def publish(self) -> None:
        n = self.rng.randrange(40)
        if n in self.erased:
            return
        grant = self._grant(n)
        if self._received(n, grant):
            self.grants.setdefault(n, []).append(grant)

    def republish(self) -> None:
        live = [(n, g) for n, gs in self.grants.items() for g in gs]
        if live:
            self._received(*self.rng.choice(live))

    def _received(self, n: int, grant) -> bool:
        """Deliver; a refusal (an employer's policy) must change nothing either."""
        try:
            self.registry.receive_disclosure(self._document(n, grant), NOW)
        except AudienceRefusedByEmployer:
            return False
        return True

    def withdraw(self) -> None:
        live = [(n, g) for n, gs in self.grants.items() for g in gs]
        if live:
            n, grant = self.rng.choice(live)
            self.registry.receive_withdrawal(
                withdrawal(holder_key(n), grant, self._next(n)), NOW)
            self.grants[n].remove(grant)

    def erase(self) -> None:
        if self.grants:
            n = self.rng.choice(sorted(self.grants))
            self.registry.receive_erasure(erasure(holder_key(n), self._next(n)), NOW)
            del self.grants[n]
            self.erased.add(n)

    def bulk(self) -> None:
        sent = []
        for _ in range(self.rng.randint(1, 4)):
            n = 40 + self.rng.randrange(20)
            grant = self._grant(n)
            sent.append((n, grant, self._document(n, grant)))
        result = self.registry.bulk.disclosures([json.dumps(d) for _, _, d in sent],
                                                NOW)
        refused = {position for position, _ in result.refused}
        for position, (n, grant, _) in enumerate(sent):
            if position not in refused:
                self.grants.setdefault(n, []).append(grant)

    def employment(self) -> None:
        """Utrecht attests one of the holders naming it, or ends the employment:
        its policy governs a holder's grants only while it attests them."""
        n = self.rng.randrange(0, 40, 2)
        reference = self.employed.pop(n, None)
        if reference is None:
            self.employed[n] = self.registry.employment.attest(
                UTRECHT, holder_key(n).did, NOW).reference
        else:
            self.registry.employment.end(UTRECHT, reference, NOW)

    def policy(self) -> None:
        kinds = frozenset(KINDS) - {self.rng.choice(["province", "all_municipalities",
                                                     "employer_and_neighbours"])}
        self.registry.policies.set_policy(EmployerPolicy(UTRECHT, kinds), NOW)


@pytest.fixture
def populated(system):
    documents = [d for chunk in generate(reference(), 150, 5) for d in chunk]
    assert system.registry.bulk.disclosures(documents, NOW).refused == []
    return system


def test_the_ranking_follows_every_kind_of_change_to_the_index(populated):
    registry = populated.registry
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=skill_pool()[:2],
        optional_skills=skill_pool()[2:3], level_min=2, level_max=4,
        hours_per_week=24, circle="national"), NOW)
    world = World(registry, random.Random(3))
    steps = [world.publish] * 6 + [world.republish, world.withdraw, world.erase,
                                   world.bulk, world.policy, world.employment]
    registry.rank(requester, job, NOW)
    loads = registry.match_index.loads
    compared = 0
    for step in range(60):
        world.rng.choice(steps)()
        now = NOW + timedelta(days=step // 4)  # grants expire on the way

        ranked = [(s.pseudonym, s.score) for s in registry.rank(requester, job, now)]

        assert ranked == python_ranking(registry, requester, job, now), step
        assert ranked == fresh_ranking(registry, requester, job, now), step
        compared += len(ranked)
    assert registry.match_index.loads == loads  # replayed, never reloaded
    assert compared > 300


def test_a_compacted_index_ranks_as_before(populated):
    registry = populated.registry
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=skill_pool()[:1],
        circle="national"), NOW)
    world = World(registry, random.Random(4))
    for _ in range(12):
        world.publish()
    registry.rank(requester, job, NOW)  # loaded before the withdrawals
    for _ in range(6):
        world.withdraw()
    before = [(s.pseudonym, s.score) for s in registry.rank(requester, job, NOW)]
    assert registry.match_index.dead > 0

    with registry.match_index.locked() as index:
        index._compact()

    assert index.dead == 0
    assert [(s.pseudonym, s.score) for s in registry.rank(requester, job, NOW)] == (
        before)


def test_two_processes_each_follow_the_changes(populated):
    registry = populated.registry
    other = MatchIndex(registry.engine, MATCHING)
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=skill_pool()[:1],
        circle="national"), NOW)
    matcher = Matcher(job, registry.relations, registry.circles)
    world = World(registry, random.Random(5))
    with other.locked():
        pass
    for _ in range(8):
        world.publish()
    world.withdraw()

    with other.locked():
        page = rank(other, matcher, registry.gate.rankable(requester, MATCHING, NOW),
                    frozenset(), None, None, ties(registry, requester)).page

    assert page == python_ranking(registry, requester, job, NOW)
    assert other.loads == 1


def test_every_change_to_the_index_rows_is_logged_in_the_same_transaction(system):
    registry = system.registry
    key = holder_key(1)
    grant = signed_grant(key, ["skills"], to={"kind": "organisations",
                                               "organisations": [UTRECHT, NEIGHBOUR]})

    def logged():
        with registry.engine.connect() as conn:
            return conn.execute(text(
                "SELECT disclosure_id FROM match_change ORDER BY seq")).scalars().all()

    registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    first = logged()
    registry.receive_withdrawal(withdrawal(key, grant, 2), NOW)
    after = logged()

    assert len(set(first)) == 1  # two reach keys, one disclosure
    assert len(after) > len(first) and set(after) == set(first)


def test_a_change_committed_late_with_an_earlier_number_is_not_missed(
        populated, database_url):
    """PostgreSQL numbers log rows before commit: a transaction that took a number
    and commits after a later one was read is still replayed."""
    if database_url is None:
        pytest.skip("SQLite has one writer at a time")
    registry = populated.registry
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=skill_pool()[:1],
        circle="national"), NOW)
    ranked = registry.rank(requester, job, NOW)
    victim = ranked[0].pseudonym
    world = World(registry, random.Random(6))

    with registry.engine.connect() as slow:
        slow.execute(text("DELETE FROM match_skill WHERE pseudonym = :p"),
                     {"p": victim})
        slow.execute(text("DELETE FROM match_disclosure WHERE pseudonym = :p"),
                     {"p": victim})
        world.publish()  # a later number, committed first
        registry.rank(requester, job, NOW)
        slow.commit()

    with registry.match_index.locked() as index:
        page = rank(index, Matcher(job, registry.relations, registry.circles),
                    registry.gate.rankable(requester, MATCHING, NOW), frozenset(),
                    None, None, ties(registry, requester)).page
    assert victim not in {p for p, _ in page}
    assert page == python_ranking(registry, requester, job, NOW)


def test_a_change_committed_just_after_the_log_was_read_is_not_missed(
        populated, database_url, monkeypatch):
    """A transaction still running when the log is read, which commits before
    the reader's mark is taken, is replayed by the next query: the mark comes
    from the snapshot that read the log."""
    if database_url is None:
        pytest.skip("SQLite has one writer at a time")
    import registry.match_changes as changes
    import registry.match_memory as memory

    registry = populated.registry
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=skill_pool()[:1],
        circle="national"), NOW)
    victim = registry.rank(requester, job, NOW)[0].pseudonym
    world = World(registry, random.Random(7))
    committed = []

    with registry.engine.connect() as slow:
        def commit_slow():
            if not committed:
                committed.append(slow.commit())

        def xmin_after_commit(conn):
            commit_slow()
            return xmin(conn)

        def read_then_commit(conn, mark):
            found = changed_since(conn, mark)
            commit_slow()
            return found

        xmin, changed_since = changes._xmin, memory.changed_since
        slow.execute(text("DELETE FROM match_skill WHERE pseudonym = :p"),
                     {"p": victim})
        slow.execute(text("DELETE FROM match_disclosure WHERE pseudonym = :p"),
                     {"p": victim})
        world.publish()  # a later number, committed first
        monkeypatch.setattr(changes, "_xmin", xmin_after_commit)
        monkeypatch.setattr(memory, "changed_since", read_then_commit)
        registry.rank(requester, job, NOW)  # reads the log, then ``slow`` commits
        monkeypatch.undo()
    assert committed

    with registry.match_index.locked() as index:
        page = rank(index, Matcher(job, registry.relations, registry.circles),
                    registry.gate.rankable(requester, MATCHING, NOW), frozenset(),
                    None, None, ties(registry, requester)).page
    assert victim not in {p for p, _ in page}
    assert page == python_ranking(registry, requester, job, NOW)


def test_an_audience_of_several_organisations_is_seen_by_each(system):
    registry = system.registry
    key = holder_key(2)
    grant = signed_grant(key, ["skills"], to=Audience(
        "organisations", organisations=(NEIGHBOUR, UTRECHT)))
    registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    for org in (UTRECHT, NEIGHBOUR, "GM0363"):
        requester = Requester(org, "staff-1", "staff")
        job = registry.create_assignment(requester, AssignmentSpec(
            title="Opdracht", description="", required_skills=skill_pool()[:1],
            circle="national"), NOW)

        ranked = [(s.pseudonym, s.score) for s in registry.rank(requester, job, NOW)]

        assert ranked == python_ranking(registry, requester, job, NOW)
        assert bool(ranked) == (org != "GM0363")


def test_columns_come_from_the_visible_disclosures_whichever_holds_them(system):
    """A holder's one disclosure holding columns is read straight from the index;
    one with several is merged; a disclosure the requester may not see gives
    neither columns nor skills, whichever of them it is."""
    registry = system.registry
    pool = skill_pool()
    to_all = {"kind": "all_municipalities"}
    elsewhere = {"kind": "organisations", "organisations": [NEIGHBOUR]}
    published = [  # (holder, sequence, fields, audience, level)
        (1, 1, FIELDS, to_all, 2),  # one disclosure with columns, visible
        (2, 1, FIELDS, elsewhere, 5), (2, 2, ["skills"], to_all, 1),  # hidden one
        (3, 1, FIELDS, to_all, 3), (3, 2, FIELDS, elsewhere, 5),  # several
        (4, 1, FIELDS, to_all, 4), (4, 2, ["skills", "level"], to_all, 1),
    ]
    for n, sequence, fields, audience, level in published:
        key = holder_key(n)
        workcontext = full_workcontext(key.did, skills=pool[:2], level_rank=level)
        registry.receive_disclosure(disclosure(
            key, signed_grant(key, fields, to=audience), sequence, workcontext), NOW)
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=pool[:1], level_min=1,
        level_max=2, hours_per_week=24, circle="national"), NOW)

    ranked = [(s.pseudonym, s.score) for s in registry.rank(requester, job, NOW)]

    index = registry.match_index
    kinds = sorted(int(index.column_entry[index.pid_of[p]]) >= 0 for p, _ in ranked)
    assert kinds == [False, False, True, True]  # holders 3, 4 merged; 1, 2 not
    assert ranked == python_ranking(registry, requester, job, NOW)
    assert len({score for _, score in ranked}) > 2  # the columns made a difference
