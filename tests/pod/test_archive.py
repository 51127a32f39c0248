"""An export is one signed JSON-LD archive that imports into a new pod on another
server with the same result; a changed or foreign archive imports nothing."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest

from consent import Audience
from pod import InvalidArchive, PodExists, UnlockFailed, UnlockedPod
from pod.archive import export_archive, import_archive, read_archive
from pod.crypto import INTERACTIVE
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store

LATER = NOW + timedelta(hours=1)
ACCESS = [{"sequence": 1, "occurredAt": "2026-12-04T12:30:00Z",
           "organisation": "GM0344", "purpose": "matching", "fields": ["skills"],
           "outcome": "disclosed", "reason": "candidate for assignment 1"}]


@pytest.fixture
def here(tmp_path: Path) -> PodStore:
    return pod_store(tmp_path / "here")


@pytest.fixture
def elsewhere(tmp_path: Path) -> PodStore:
    return pod_store(tmp_path / "elsewhere")


@pytest.fixture
def pod(here: PodStore) -> UnlockedPod:
    pod = here.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=16), NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=24), LATER)
    kept = pod.add_grant(Audience("all_municipalities"), ["matching"], ["skills"],
                         NOW + timedelta(days=30), NOW)
    gone = pod.add_grant(Audience("all_municipalities"), ["matching"], ["level"],
                         NOW + timedelta(days=30), NOW)
    pod.disclosure(kept, NOW)
    pod.withdraw(gone.id, LATER)
    return pod


def export(pod: UnlockedPod, log=ACCESS) -> dict:
    return export_archive(pod, PASSPHRASE, log, LATER, cost=INTERACTIVE)


def comparable(archive: dict) -> dict:
    """The archive without what differs on every export by design."""
    return {k: v for k, v in archive.items()
            if k not in ("exported", "proof", "identityKey")}


def test_an_import_elsewhere_exports_the_same_archive(pod, elsewhere):
    archive = export(pod)

    moved = import_archive(elsewhere, read_archive(json.dumps(archive).encode()),
                           PASSPHRASE, LATER)

    assert moved.did == pod.did
    assert comparable(export(moved, log=[])) == comparable(archive)
    assert moved.workcontext() == pod.workcontext()
    assert [(v.version, v.saved) for v in moved.versions()] == [
        (v.version, v.saved) for v in pod.versions()]
    assert moved.grants() == pod.grants()


def test_an_imported_pod_continues_the_sequence_and_signs_as_the_holder(pod,
                                                                         elsewhere):
    archive = export(pod)
    moved = import_archive(elsewhere, archive, PASSPHRASE, LATER)
    live = [r.grant for r in moved.grants() if r.is_live(LATER)]

    disclosure = moved.disclosure(live[0], LATER)

    assert disclosure["sequence"] == archive["sequence"] + 1
    assert disclosure["proof"]["verificationMethod"] == pod.did


def test_an_archive_holds_the_history_grants_and_access_log_as_json_ld(pod):
    archive = export(pod)

    assert archive["type"] == "PodExport" and archive["holder"] == pod.did
    assert [h["version"] for h in archive["history"]] == [1, 2]
    assert len(archive["grants"]) == 2 and archive["accessLog"] == ACCESS
    assert archive["@context"]["history"] == {"@type": "@json"}
    assert pod.key_material()[0].hex() not in json.dumps(archive)


def test_an_archive_with_any_member_changed_is_refused_and_creates_no_pod(
        pod, elsewhere):
    archive = export(pod)
    for change in (lambda a: a["history"][0]["document"].update(name="Someone"),
                   lambda a: a.update(sequence=a["sequence"] + 100),
                   lambda a: a["grants"].pop(),
                   lambda a: a["accessLog"].clear()):
        altered = copy.deepcopy(archive)
        change(altered)
        with pytest.raises(InvalidArchive):
            import_archive(elsewhere, altered, PASSPHRASE, LATER)

    assert not elsewhere.exists(pod.did)
    assert list(elsewhere.root.glob("*/pod.json")) == []


def test_an_archive_opens_only_with_the_export_passphrase(pod, elsewhere):
    with pytest.raises(UnlockFailed):
        import_archive(elsewhere, export(pod), "another passphrase here", LATER)

    assert not elsewhere.exists(pod.did)


def test_an_archive_does_not_import_twice_into_one_server(pod, here):
    with pytest.raises(PodExists):
        import_archive(here, export(pod), PASSPHRASE, LATER)


@pytest.mark.parametrize("raw, message", [
    (b"not json", "not valid JSON"),
    (b"[]", "must be a JSON object"),
    (json.dumps({"type": "PodExport"}).encode(), "is missing"),
    (b"[" * 40 + b"]" * 40, "nested too deeply"),
])
def test_a_malformed_archive_is_refused_with_what_is_wrong(elsewhere, raw, message):
    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, read_archive(raw), PASSPHRASE, LATER)

    assert message in str(caught.value)
