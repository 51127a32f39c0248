"""An export is one signed JSON-LD archive that imports into a new pod on another
server with the same result; a changed or foreign archive imports nothing."""

from __future__ import annotations

import base64
import copy
import json
import os
import threading
import time
import types
from datetime import timedelta
from pathlib import Path

import pytest

from consent import Audience, HolderKey, sign_document
from pod import ArchiveTooLarge, InvalidArchive, PodExists, UnlockFailed, UnlockedPod
from pod import archive as archive_module
from pod import limits
from pod.archive import export_archive, import_archive, read_archive
from pod.binaries import CHUNK, BinaryWriter, binaries, read_range
from pod import crypto
from pod.crypto import INTERACTIVE
from pod.derivation import KeyDerivation
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store

LATER = NOW + timedelta(hours=1)
DERIVATION = KeyDerivation(INTERACTIVE)
VIDEO = bytes(range(256)) * (2 * CHUNK // 256 + 7)  # three chunks, the last short
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
    store_binary(pod, "intro.mp4", "video/mp4", VIDEO)
    store_binary(pod, "leeg.txt", "text/plain", b"")
    return pod


def store_binary(pod: UnlockedPod, name: str, media_type: str, data: bytes) -> None:
    writer = BinaryWriter(pod, name, media_type)
    writer.write(data)
    writer.commit(NOW)


def contents(pod: UnlockedPod) -> dict:
    return {info.name: (info.media_type, info.saved, b"".join(read_range(pod, info)))
            for info in binaries(pod)}


def export(pod: UnlockedPod, log=ACCESS) -> dict:
    return export_archive(pod, PASSPHRASE, log, LATER, DERIVATION)


def as_archived(pod: UnlockedPod, document: dict) -> dict:
    return document


def comparable(archive: dict) -> dict:
    """The archive without what differs on every export by design."""
    return {k: v for k, v in archive.items()
            if k not in ("exported", "proof", "identityKey")}


def test_an_import_elsewhere_exports_the_same_archive(pod, elsewhere):
    archive = export(pod)

    moved = import_archive(elsewhere, read_archive(json.dumps(archive).encode()),
                           PASSPHRASE, LATER, prepare=as_archived)

    assert moved.did == pod.did
    assert comparable(export(moved, log=[])) == comparable(archive)
    assert moved.workcontext() == pod.workcontext()
    assert [(v.version, v.saved) for v in moved.versions()] == [
        (v.version, v.saved) for v in pod.versions()]
    assert moved.grants() == pod.grants()
    assert contents(moved) == contents(pod)
    assert contents(moved)["intro.mp4"][2] == VIDEO


def test_imported_binaries_are_encrypted_under_the_new_pod(pod, elsewhere):
    moved = import_archive(elsewhere, export(pod), PASSPHRASE, LATER,
                           prepare=as_archived)

    files = list((moved.directory / "binaries").glob("*.bin"))
    assert len(files) == 2
    assert all(VIDEO[:4096] not in path.read_bytes() for path in files)
    assert {info.file for info in binaries(moved)} == {path.stem for path in files}


def test_a_write_to_the_new_pod_during_an_import_leaves_its_binaries(pod, elsewhere,
                                                                    monkeypatch):
    """The imported files are written before the one commit that names them; a
    write of the same pod in between sweeps what no manifest names."""
    load = UnlockedPod.load

    def load_after_another_write(self, *args, **kwargs):
        store_binary(elsewhere.open_with_key(self.did, self.passkey), "tussendoor.txt",
                     "text/plain", b"meanwhile")
        return load(self, *args, **kwargs)

    monkeypatch.setattr(UnlockedPod, "load", load_after_another_write)
    moved = import_archive(elsewhere, export(pod), PASSPHRASE, LATER,
                           prepare=as_archived)

    assert contents(moved) == contents(pod)


def test_an_archive_made_before_binaries_were_exported_still_imports(pod, elsewhere):
    archive = export(pod)
    archive.pop("binaries")
    del archive["proof"]
    archive = pod.sign(archive)

    moved = import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)

    assert binaries(moved) == []
    assert moved.workcontext() == pod.workcontext()


def test_a_pod_whose_binaries_do_not_fit_an_archive_is_refused(pod, monkeypatch):
    monkeypatch.setattr(archive_module, "MAX_BINARY_BYTES", len(VIDEO) - 1)

    with pytest.raises(ArchiveTooLarge):
        export(pod)


@pytest.mark.parametrize("change, message", [
    (lambda b: b.append(dict(b[0])), "appears twice"),
    (lambda b: b[0].update(name="../x"), "not a valid name"),
    (lambda b: b[0].update(content="***"), "must be base64"),
    (lambda b: b[0].update(size=1), "as its size says"),
    (lambda b: b[0].pop("saved"), "must have exactly"),
])
def test_a_malformed_binary_in_an_archive_is_refused(pod, elsewhere, change, message):
    archive = export(pod)
    change(archive["binaries"])

    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)

    assert message in str(caught.value)
    assert not elsewhere.exists(pod.did)


def test_each_imported_version_is_stored_as_the_callers_preparation_makes_it(
        pod, elsewhere):
    def prepare(new_pod: UnlockedPod, document: dict) -> dict:
        assert new_pod.did == pod.did
        return {**document, "name": "Prepared"}

    moved = import_archive(elsewhere, export(pod), PASSPHRASE, LATER, prepare=prepare)

    assert [moved.version(v.version)["name"] for v in moved.versions()] == [
        "Prepared", "Prepared"]


def test_a_failing_preparation_leaves_no_pod(pod, elsewhere):
    def prepare(new_pod: UnlockedPod, document: dict) -> dict:
        raise InvalidArchive(["refused"])

    with pytest.raises(InvalidArchive):
        import_archive(elsewhere, export(pod), PASSPHRASE, LATER, prepare=prepare)

    assert not elsewhere.exists(pod.did)


def test_an_imported_pod_signs_above_the_sequence_its_registry_last_accepted(
        pod, elsewhere):
    archive = export(pod)
    asked = []

    moved = import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived,
                           sequence_floor=lambda did: asked.append(did) or 1000)
    live = [r.grant for r in moved.grants() if r.is_live(LATER)]

    assert asked == [pod.did]
    assert moved.disclosure(live[0], LATER)["sequence"] == 1001


def test_an_imported_pod_continues_the_sequence_and_signs_as_the_holder(pod,
                                                                         elsewhere):
    archive = export(pod)
    moved = import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)
    live = [r.grant for r in moved.grants() if r.is_live(LATER)]

    disclosure = moved.disclosure(live[0], LATER)

    assert disclosure["sequence"] == archive["sequence"] + 1
    assert disclosure["proof"]["verificationMethod"] == pod.did


def test_an_archive_holds_the_history_grants_and_access_log_as_json_ld(pod):
    archive = export(pod)

    assert archive["type"] == "PodExport" and archive["holder"] == pod.did
    assert [h["version"] for h in archive["history"]] == [1, 2]
    assert len(archive["grants"]) == 2 and archive["accessLog"] == ACCESS
    assert [(b["name"], b["mediaType"], b["size"]) for b in archive["binaries"]] == [
        ("intro.mp4", "video/mp4", len(VIDEO)), ("leeg.txt", "text/plain", 0)]
    assert base64.b64decode(archive["binaries"][0]["content"]) == VIDEO
    assert archive["@context"]["history"] == {"@type": "@json"}
    assert archive["@context"]["binaries"] == {"@type": "@json"}
    assert pod.key_material()[0].hex() not in json.dumps(archive)


def test_an_archive_with_any_member_changed_is_refused_and_creates_no_pod(
        pod, elsewhere):
    archive = export(pod)
    for change in (lambda a: a["history"][0]["document"].update(name="Someone"),
                   lambda a: a.update(sequence=a["sequence"] + 100),
                   lambda a: a["grants"].pop(),
                   lambda a: a["accessLog"].clear(),
                   lambda a: a["binaries"][0].update(
                       content=base64.b64encode(b"x" * a["binaries"][0]["size"]
                                                ).decode()),
                   lambda a: a["binaries"][0].update(mediaType="text/html"),
                   lambda a: a["binaries"].pop()):
        altered = copy.deepcopy(archive)
        change(altered)
        with pytest.raises(InvalidArchive):
            import_archive(elsewhere, altered, PASSPHRASE, LATER, prepare=as_archived)

    assert not elsewhere.exists(pod.did)
    assert list(elsewhere.root.glob("*/pod.json")) == []


def test_an_archive_opens_only_with_the_export_passphrase(pod, elsewhere):
    with pytest.raises(UnlockFailed):
        import_archive(elsewhere, export(pod), "another passphrase here", LATER,
                       prepare=as_archived)

    assert not elsewhere.exists(pod.did)


def test_an_archive_does_not_import_twice_into_one_server(pod, here):
    with pytest.raises(PodExists):
        import_archive(here, export(pod), PASSPHRASE, LATER, prepare=as_archived)


@pytest.mark.parametrize("raw, message", [
    (b"not json", "not valid JSON"),
    (b"[]", "must be a JSON object"),
    (json.dumps({"type": "PodExport"}).encode(), "is missing"),
    (b"[" * 40 + b"]" * 40, "nested too deeply"),
])
def test_a_malformed_archive_is_refused_with_what_is_wrong(elsewhere, raw, message):
    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, read_archive(raw), PASSPHRASE, LATER,
                       prepare=as_archived)

    assert message in str(caught.value)


# -- the sealed identity key and its key derivation ----------------------------------
def forged(identity_key: dict) -> dict:
    """An archive anyone can make: a fresh key signs it, ``sealed`` is noise."""
    key = HolderKey(os.urandom(32))
    body = {"@context": archive_module.CONTEXT, "type": archive_module.ARCHIVE_TYPE,
            "holder": key.did, "exported": "2026-12-05T05:00:00Z", "sequence": 0,
            "history": [], "grants": [], "accessLog": [], "identityKey": identity_key}
    return sign_document(body, key)


def identity_key(**changes) -> dict:
    key = {"alg": "argon2id+xchacha20poly1305",
           "salt": base64.b64encode(os.urandom(crypto.SALT_BYTES)).decode(),
           "opslimit": INTERACTIVE[0], "memlimit": INTERACTIVE[1],
           "sealed": base64.b64encode(os.urandom(crypto.SEALED_OVERHEAD + 32)).decode()}
    return {**key, **changes}


def derivations(monkeypatch) -> list:
    calls = []
    derive = crypto.derive_key
    monkeypatch.setattr(crypto, "derive_key", lambda *args: (calls.append(args[2:]),
                                                             derive(*args))[1])
    return calls


@pytest.mark.parametrize("changes, message", [
    ({"opslimit": 4, "memlimit": 1024 ** 3}, "Argon2id cost"),
    ({"opslimit": crypto.MODERATE[0] + 1}, "Argon2id cost"),
    ({"memlimit": crypto.MODERATE[1] * 2}, "Argon2id cost"),
    ({"opslimit": True}, "Argon2id cost"),
    ({"alg": "argon2i"}, "identityKey"),
    ({"salt": base64.b64encode(b"short").decode()}, "identityKey"),
    ({"sealed": base64.b64encode(os.urandom(4096)).decode()}, "identityKey"),
    ({"extra": 1}, "identityKey"),
])
def test_an_identity_key_this_server_would_not_make_is_refused_before_deriving(
        elsewhere, monkeypatch, changes, message):
    calls = derivations(monkeypatch)
    archive = forged(identity_key(**changes))

    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)

    assert message in str(caught.value)
    assert calls == []
    assert list(elsewhere.root.glob("*/pod.json")) == []


def test_an_archive_at_the_moderate_level_imports_into_an_interactive_server(
        here, pod, elsewhere):
    archive = export_archive(pod, PASSPHRASE, [], LATER,
                             PodStore(here.root, kdf_cost=crypto.MODERATE).derivation)

    moved = import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)

    assert archive["identityKey"]["opslimit"] == crypto.MODERATE[0]
    assert moved.did == pod.did


def test_the_import_and_export_derivations_wait_for_the_stores_limiter(
        tmp_path, pod):
    store = PodStore(tmp_path / "limited", kdf_cost=INTERACTIVE, max_derivations=1)
    archive = export(pod)
    done = {}

    def work(name, job):
        done[name] = job()

    with store.derivation.slot():
        threads = [threading.Thread(target=work, args=("import", lambda: import_archive(
                       store, copy.deepcopy(archive), PASSPHRASE, LATER,
                       prepare=as_archived))),
                   threading.Thread(target=work, args=("export", lambda: export_archive(
                       pod, PASSPHRASE, [], LATER, store.derivation)))]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        assert done == {}
    for thread in threads:
        thread.join()

    assert done["import"].did == pod.did and done["export"]["holder"] == pod.did


def test_concurrent_imports_of_one_archive_make_one_pod_and_refuse_the_others(
        pod, tmp_path, monkeypatch):
    store = pod_store(tmp_path / "race")
    archive = export(pod)
    create_shard = store.keyring.create

    def create_shard_slowly(pod_id):
        time.sleep(0.2)  # holds the window between the check and the creation open
        return create_shard(pod_id)

    monkeypatch.setattr(store.keyring, "create", create_shard_slowly)
    outcomes = []

    def run():
        try:
            import_archive(store, copy.deepcopy(archive), PASSPHRASE, LATER,
                           prepare=as_archived)
            outcomes.append("imported")
        except Exception as exc:  # noqa: BLE001 (the outcome is what is tested)
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["PodExists", "PodExists", "imported"]
    assert store.unlock(pod.did, PASSPHRASE).workcontext() == pod.workcontext()


# -- an archive is untrusted input: the pod's ceilings hold for it too ---------------
def resigned(pod: UnlockedPod, archive: dict) -> dict:
    """An archive the holder changed and signed again with the key inside it."""
    body = {k: v for k, v in archive.items() if k != "proof"}
    return sign_document(body, HolderKey(pod.key_material()[0]))


@pytest.mark.parametrize("ceiling, message", [
    ("MAX_LIVE_GRANTS", "live grants"),
    ("MAX_GRANT_RECORDS", "grant records"),
    ("MAX_BINARIES", "files"),
    ("MAX_BINARY_TOTAL", "bytes of files"),
])
def test_an_archive_over_a_ceiling_of_the_pod_is_refused_and_creates_no_pod(
        pod, elsewhere, monkeypatch, ceiling, message):
    pod.add_grant(Audience("all_municipalities"), ["matching"], ["level"],
                  NOW + timedelta(days=30), NOW)
    archive = export(pod)
    monkeypatch.setattr(limits, ceiling, {"MAX_LIVE_GRANTS": 1, "MAX_GRANT_RECORDS": 2,
                                          "MAX_BINARIES": 1,
                                          "MAX_BINARY_TOTAL": len(VIDEO) - 1}[ceiling])

    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)

    assert message in str(caught.value)
    assert not elsewhere.exists(pod.did)


def test_an_archive_at_the_ceilings_imports(pod, elsewhere, monkeypatch):
    archive = export(pod)
    for ceiling, value in (("MAX_LIVE_GRANTS", 1), ("MAX_GRANT_RECORDS", 2),
                           ("MAX_BINARIES", 2), ("MAX_BINARY_TOTAL", len(VIDEO))):
        monkeypatch.setattr(limits, ceiling, value)

    moved = import_archive(elsewhere, archive, PASSPHRASE, LATER, prepare=as_archived)

    assert moved.grants() == pod.grants()


def test_an_archive_repeating_a_grant_is_refused_and_creates_no_pod(pod, elsewhere):
    archive = export(pod)
    archive["grants"] = archive["grants"] * 2

    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, resigned(pod, archive), PASSPHRASE, LATER,
                       prepare=as_archived)

    assert "appears twice" in str(caught.value)
    assert not elsewhere.exists(pod.did)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(accessLog=[{"x": 1}, "junk", 5]), "accessLog"),
    (lambda a: a["grants"][0].update(withdrawn=5), "grant record"),
    (lambda a: a["grants"][0].update(pending="gisteren"), "grant record"),
    (lambda a: a["grants"][0].update(extra=True), "grant record"),
])
def test_an_archive_with_a_malformed_record_is_refused(pod, elsewhere, change, message):
    archive = export(pod)
    change(archive)

    with pytest.raises(InvalidArchive) as caught:
        import_archive(elsewhere, resigned(pod, archive), PASSPHRASE, LATER,
                       prepare=as_archived)

    assert message in str(caught.value)
    assert not elsewhere.exists(pod.did)


@pytest.mark.parametrize("raw", [
    b'{"archive":' + b"[" * 1000 + b"]" * 1000 + b"}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
])
def test_an_archive_nested_beyond_what_the_parser_can_take_is_invalid(raw):
    with pytest.raises(InvalidArchive) as caught:
        read_archive(raw)

    assert "nested too deeply" in str(caught.value)


@pytest.mark.parametrize("raw", [
    b"[" + b"{}," * archive_module.MAX_NODES + b"{}]",
    b"[" + b"0," * archive_module.MAX_NODES + b"0]",
    b'{"a":[' + b"[]," * archive_module.MAX_NODES + b'[]],"b":"\\\\"}',
    ("[" + "{}," * archive_module.MAX_NODES + "{}]").encode("utf-16"),
])
def test_an_archive_of_more_values_than_it_may_hold_is_refused_before_parsing(
        raw, monkeypatch):
    parsed = []
    monkeypatch.setattr(archive_module, "json", types.SimpleNamespace(
        loads=lambda *args, **kwargs: parsed.append(1),
        detect_encoding=json.detect_encoding))

    with pytest.raises(InvalidArchive) as caught:
        read_archive(raw)

    assert "too large" in str(caught.value)
    assert parsed == []  # a million values would have cost a gigabyte to build


@pytest.mark.parametrize("text", [
    "," * (archive_module.MAX_NODES + 1),
    '\\"[' * (archive_module.MAX_NODES + 1),
])
def test_brackets_and_commas_inside_texts_do_not_count_as_values(text):
    raw = json.dumps({"note": text, "list": [1, 2, 3]}).encode()

    assert read_archive(raw) == {"note": text, "list": [1, 2, 3]}
