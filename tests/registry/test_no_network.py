"""No network from data (DESIGN.md invariant 6): a Workcontext naming a context that
does not ship with the system is refused with RemoteContextRefused, on the way into
the pod and into the registry, and no socket is even tried.

The session-wide guard in tests/conftest.py refuses and records every connection
beyond loopback; these tests also check that the guard is in place.
"""

from __future__ import annotations

import copy
import socket

import pytest

from consent import InvalidGrant, sign_document
from schemas import RemoteContextRefused, SchemaError, WorkcontextValidator
from tests.factories import (
    NOW,
    PASSPHRASE,
    disclosure,
    full_workcontext,
    holder_key,
    registry_snapshot,
    signed_grant,
)
from vg.holder_flows import save_workcontext

REMOTE = "https://contexts.example/evil.jsonld"
DID = holder_key(1).did


@pytest.fixture(scope="module")
def validator() -> WorkcontextValidator:
    return WorkcontextValidator()


@pytest.fixture
def no_attempts(network_guard):
    before = len(network_guard.refused)
    yield
    assert network_guard.refused[before:] == []


def with_context(context, where: tuple[str, ...] = ()) -> dict:
    document = full_workcontext(DID)
    node = document
    for step in where:
        node = node[step]
    node["@context"] = context
    return document


def test_the_network_guard_is_installed_for_the_whole_session(network_guard):
    assert socket.socket.connect.network_guard is network_guard
    assert socket.socket.connect_ex.network_guard is network_guard
    assert socket.getaddrinfo.network_guard is network_guard


@pytest.mark.parametrize("family, address, allowed", [
    (socket.AF_INET, ("127.0.0.1", 5432), True),
    (socket.AF_INET6, ("::1", 5432, 0, 0), True),
    (socket.AF_INET, ("localhost", 80), True),
    (socket.AF_UNIX, "/tmp/.s.PGSQL.5432", True),
    (socket.AF_INET, ("10.0.0.1", 443), False),
    (socket.AF_INET, ("contexts.example", 443), False),
    (socket.AF_INET6, ("2001:db8::1", 443, 0, 0), False),
])
def test_the_network_guard_allows_only_loopback_and_unix_sockets(
        network_guard, family, address, allowed):
    assert network_guard.allows(family, address) is allowed


def test_a_valid_workcontext_passes_without_touching_the_network(validator,
                                                                 no_attempts):
    document = full_workcontext(DID)

    assert validator.validate(document, holder_id=DID) is document


def test_a_remote_context_is_refused_by_name(validator, no_attempts):
    with pytest.raises(RemoteContextRefused) as caught:
        validator.validate(with_context(REMOTE))

    assert caught.value.url == REMOTE
    assert (caught.value.status, caught.value.code) == (400, "remote-context-refused")


@pytest.mark.parametrize("where", [("functionLevel",), ("availability",),
                                   ("availability", "period"), ("introVideo",)],
                         ids=".".join)
def test_a_remote_context_nested_in_a_field_is_refused(validator, no_attempts, where):
    with pytest.raises(RemoteContextRefused):
        validator.validate(with_context(REMOTE, where))


@pytest.mark.parametrize("context", [
    {"@import": REMOTE},
    {"@version": 1.1, "name": "https://schema.org/name"},
    ["https://w3id.org/virtuele-gemeente/contexts/workcontext-v1.jsonld", REMOTE],
], ids=["import", "inline", "list"])
def test_any_other_context_is_a_clear_error(validator, no_attempts, context):
    with pytest.raises(SchemaError) as caught:
        validator.validate(with_context(context))

    assert caught.value.status == 400


def test_a_remote_context_in_a_context_list_is_refused_by_name(validator, no_attempts):
    shipped = "https://w3id.org/virtuele-gemeente/contexts/workcontext-v1.jsonld"

    with pytest.raises(RemoteContextRefused):
        validator.validate(with_context([shipped, REMOTE]))


def test_a_pod_refuses_a_workcontext_with_a_remote_context_and_stores_nothing(
        system, no_attempts):
    pod = system.pods.create(PASSPHRASE, NOW)
    document = full_workcontext(pod.did)
    document["@context"] = REMOTE

    with pytest.raises(RemoteContextRefused):
        save_workcontext(system, pod, document, NOW)
    assert pod.versions() == []


def test_the_registry_refuses_a_projection_with_a_remote_context(system, no_attempts):
    key = holder_key(1)
    body = copy.deepcopy(disclosure(key, signed_grant(key, ["skills"]), 1))
    body.pop("proof")
    body["workcontext"]["@context"] = REMOTE
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(InvalidGrant):
        system.registry.receive_disclosure(sign_document(body, key), NOW)
    assert registry_snapshot(system.registry.engine) == before
