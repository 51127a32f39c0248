"""Consent records and receipts: ISO/IEC TS 27560 in W3C DPV terms, JSON-LD in the
shipped context, valid under the shipped SHACL shapes, every DPV term real (checked
against the DPV 2.3 vocabulary files), receipts signed and tamper-evident."""

from __future__ import annotations

import copy
import os
from datetime import timedelta
from pathlib import Path

import pytest
import rdflib

from consent import Audience, InvalidSignature
from consent.record import (
    LEGAL_BASES,
    PD_CATEGORY,
    STATUSES,
    ConsentEvent,
    DeclaredBasis,
    consent_receipt,
    consent_record,
    grant_events,
    verify_receipt,
)
from schemas import FIELDS, PURPOSES, InvalidDocument
from schemas.consent_record import ConsentRecordValidator
from tests.factories import NOW, UTRECHT, holder_key, signed_grant

VECTORS = Path(os.environ.get("VG_VECTORS_DIR")
               or Path(__file__).resolve().parents[3] / "shared" / "vectors") / "dpv"
DPV = rdflib.Namespace("https://w3id.org/dpv#")
SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
VALIDATOR = ConsentRecordValidator()
HOLDER = holder_key(1)
OPERATOR = holder_key(900)
GRANT = signed_grant(HOLDER, ["skills", "salary_scale", "hours_per_week"],
                     purposes=("matching", "teamwork"))
BASES = [DeclaredBasis(UTRECHT, "matching", "public_task"),
         DeclaredBasis(UTRECHT, "teamwork", "employee_request"),
         DeclaredBasis(UTRECHT, "contact", "public_task")]


@pytest.fixture(scope="module")
def vocabulary() -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in ("dpv.ttl", "pd.ttl", "eu-gdpr.ttl"):
        graph.parse(VECTORS / name, format="turtle")
    return graph


def record(status: str = "given", **changes):
    event = ConsentEvent(status, NOW + timedelta(hours=1), HOLDER.did)
    return consent_record(GRANT, event, BASES) | changes


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_a_record_of_every_event_conforms_to_the_shapes(status):
    VALIDATOR.validate(record(status))


def test_a_record_states_the_receiving_organisations_bases_for_the_grants_purposes():
    bases = record()["process"]["declaredBasis"]

    assert {(b["declaredBy"], b["legalBasis"]) for b in bases} == {
        (UTRECHT, "eu-gdpr:A6-1-e"), (UTRECHT, "eu-gdpr:A6-1-b")}


def test_every_dpv_term_a_record_uses_is_in_the_dpv_vocabulary(vocabulary):
    graph = VALIDATOR.validate(record())
    terms = {o for o in graph.objects() if isinstance(o, rdflib.URIRef)} | set(
        graph.predicates())
    used = {t for t in terms if str(t).startswith(("https://w3id.org/dpv#",
                                                   "https://w3id.org/dpv/pd#",
                                                   "https://w3id.org/dpv/legal/"))}
    missing = {t for t in used if (t, None, None) not in vocabulary}

    assert used and not missing


def test_every_purpose_refines_a_dpv_purpose(vocabulary):
    for purpose in PURPOSES.values():
        broader = set(vocabulary.transitive_objects(rdflib.URIRef(purpose.dpv_broader),
                                                    SKOS.broader))
        assert DPV.Purpose in broader, purpose.key


def test_every_field_and_legal_basis_maps_to_a_term_of_the_vocabulary(vocabulary):
    pd = "https://w3id.org/dpv/pd#"
    gdpr = "https://w3id.org/dpv/legal/eu/gdpr#"
    assert set(PD_CATEGORY) == set(FIELDS)
    for curie in PD_CATEGORY.values():
        assert (rdflib.URIRef(pd + curie[3:]), None, None) in vocabulary
    for curie in LEGAL_BASES.values():
        assert (rdflib.URIRef(gdpr + curie[8:]), None, None) in vocabulary


@pytest.mark.parametrize("member", ["identifier", "dataSubject", "consentStatus",
                                    "indicatedAt", "indicatedBy", "process", "grant"])
def test_a_record_without_a_mandatory_member_does_not_conform(member):
    incomplete = record()
    del incomplete[member]

    with pytest.raises(InvalidDocument):
        VALIDATOR.validate(incomplete)


def test_a_record_with_a_status_that_is_no_state_of_a_grant_does_not_conform():
    with pytest.raises(InvalidDocument) as caught:
        VALIDATOR.validate(record(consentStatus="dpv:ConsentRequested"))

    assert any("consent status" in p for p in caught.value.problems)


def test_a_record_with_a_term_outside_the_context_is_refused():
    with pytest.raises(InvalidDocument):
        VALIDATOR.validate(record(favouriteColour="blue"))


def test_the_same_event_always_has_the_same_record_identifier():
    assert record()["identifier"] == record()["identifier"]
    assert record("given")["identifier"] != record("withdrawn")["identifier"]


def test_the_history_of_a_withdrawn_grant_is_given_then_withdrawn():
    events = grant_events(GRANT, NOW + timedelta(days=2), [], NOW + timedelta(days=90))

    assert [e.status for e in events] == ["given", "withdrawn"]


def test_the_history_of_a_grant_past_its_end_ends_in_expiry_at_its_end():
    events = grant_events(GRANT, None, [], NOW + timedelta(days=90))

    assert [(e.status, e.at) for e in events][-1] == ("expired", GRANT.valid_until)
    assert [e.status for e in grant_events(GRANT, None, [], NOW)] == ["given"]


def test_a_renewal_and_a_suspension_appear_in_the_history():
    renewal = signed_grant(HOLDER, ["skills"], to=Audience("all_municipalities"))
    renewal = type(renewal)(**{**{f: getattr(renewal, f) for f in renewal.__slots__},
                               "renews": GRANT.id})
    suspended = (NOW + timedelta(hours=3), "urn:employer")

    events = grant_events(renewal, None, [suspended], NOW + timedelta(days=1))

    assert [e.status for e in events] == ["renewed", "invalidated"]
    assert consent_record(renewal, events[0])["renews"] == GRANT.id


def test_a_lifted_suspension_appears_in_the_history_after_the_suspension():
    suspended = (NOW + timedelta(hours=3), "urn:employer")
    lifted = (NOW + timedelta(hours=5), "urn:employer")

    events = grant_events(GRANT, None, [suspended], NOW + timedelta(days=1),
                          lifted=[lifted])

    assert [(e.status, e.at) for e in events] == [
        ("given", GRANT.created), ("invalidated", suspended[0]),
        ("lifted", lifted[0])]
    shown = consent_record(GRANT, events[-1])
    assert shown["consentStatus"] == "dpv:ConsentGiven"
    assert shown["indicatedBy"] == "urn:employer"
    VALIDATOR.validate(consent_receipt([consent_record(GRANT, e) for e in events],
                                       OPERATOR, NOW))


def test_a_receipt_holds_the_records_conforms_and_verifies():
    receipt = consent_receipt([record("given"), record("withdrawn")], OPERATOR, NOW)

    VALIDATOR.validate(receipt)
    verify_receipt(receipt, OPERATOR.did)
    assert len(receipt["recordOfActivity"]) == 2


@pytest.mark.parametrize("change", [
    lambda r: r["recordOfActivity"][0].update(consentStatus="dpv:ConsentGiven"),
    lambda r: r["recordOfActivity"].pop(),
    lambda r: r.update(created="2020-01-01T00:00:00Z"),
])
def test_a_changed_receipt_no_longer_verifies(change):
    receipt = consent_receipt([record("withdrawn"), record("given")], OPERATOR, NOW)
    changed = copy.deepcopy(receipt)
    change(changed)

    with pytest.raises(InvalidSignature):
        verify_receipt(changed, OPERATOR.did)


def test_a_receipt_verified_against_another_issuer_fails():
    receipt = consent_receipt([record()], OPERATOR, NOW)

    with pytest.raises(InvalidSignature):
        verify_receipt(receipt, HOLDER.did)
