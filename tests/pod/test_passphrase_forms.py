"""A passphrase is the same passphrase in every Unicode form: "é" typed as one code
point (NFC) or as "e" and a combining accent (NFD) unlocks the same pod. Keys are
derived from the NFC form, and the pod records that it was; a pod made before that
record still opens with the exact bytes it was made with, and from then on with
either form."""

from __future__ import annotations

import base64
import json
import unicodedata

import pytest

from pod import UnlockFailed, crypto
from pod.archive import export_archive, import_archive
from pod.crypto import INTERACTIVE
from pod.derivation import KeyDerivation
from tests.factories import NOW, pod_store

NFC = unicodedata.normalize("NFC", "café crème brûlée 2026")
NFD = unicodedata.normalize("NFD", NFC)
DERIVATION = KeyDerivation(INTERACTIVE)


def test_the_two_forms_are_different_strings():
    assert NFC != NFD and NFC.encode() != NFD.encode()


@pytest.mark.parametrize("made, typed", [(NFC, NFD), (NFD, NFC), (NFD, NFD)])
def test_a_new_pod_unlocks_with_its_passphrase_in_either_form(tmp_path, made, typed):
    store = pod_store(tmp_path / "pods")
    pod = store.create(made, NOW)

    again = store.unlock(pod.did, typed)

    assert again.did == pod.did
    assert kdf_of(store, pod.did)["normalise"] == "NFC"


def test_a_changed_passphrase_unlocks_in_either_form(tmp_path):
    store = pod_store(tmp_path / "pods")
    pod = store.create("een lange wachtzin 42", NOW)

    store.change_passphrase(pod.did, "een lange wachtzin 42", NFD)

    assert store.unlock(pod.did, NFC).did == pod.did


def test_a_pod_made_before_normalisation_opens_with_its_exact_bytes(tmp_path):
    store = pod_store(tmp_path / "pods")
    did = made_before_normalisation(store, NFD)

    assert store.unlock(did, NFD).did == did


def test_a_pod_made_before_normalisation_is_not_opened_by_another_form(tmp_path):
    store = pod_store(tmp_path / "pods")
    did = made_before_normalisation(store, NFD)

    with pytest.raises(UnlockFailed):
        store.unlock(did, NFC)
    assert "normalise" not in kdf_of(store, did)  # a failed unlock changes nothing


def test_an_old_pod_opened_once_opens_in_either_form_from_then_on(tmp_path):
    store = pod_store(tmp_path / "pods")
    did = made_before_normalisation(store, NFD)

    store.unlock(did, NFD).lock()

    assert kdf_of(store, did)["normalise"] == "NFC"
    assert store.unlock(did, NFD).did == did
    assert store.unlock(did, NFC).did == did


def test_an_archive_imports_with_its_passphrase_in_the_other_form(tmp_path):
    pod = pod_store(tmp_path / "here").create(NFC, NOW)
    archive = export_archive(pod, NFC, [], NOW, DERIVATION)

    moved = import_archive(pod_store(tmp_path / "there"), archive, NFD, NOW,
                           prepare=lambda _pod, document: document)

    assert moved.did == pod.did
    assert archive["identityKey"]["normalise"] == "NFC"


def test_an_archive_made_before_normalisation_imports_with_its_exact_bytes(tmp_path):
    pod = pod_store(tmp_path / "here").create(NFD, NOW)
    archive = export_archive(pod, NFD, [], NOW, DERIVATION)
    seed, _ = pod.key_material()
    body = {k: v for k, v in archive.items() if k != "proof"}
    archive = pod.sign({**body, "identityKey": sealed_raw(seed, NFD)})

    with pytest.raises(UnlockFailed):
        import_archive(pod_store(tmp_path / "other"), archive, NFC, NOW,
                       prepare=lambda _pod, document: document)
    moved = import_archive(pod_store(tmp_path / "there"), archive, NFD, NOW,
                           prepare=lambda _pod, document: document)

    assert moved.did == pod.did


# -- pods and archives as the code before normalisation wrote them ---------------------

def kdf_of(store, did: str) -> dict:
    return json.loads((store.directory(did) / "pod.json").read_bytes())["kdf"]


def made_before_normalisation(store, passphrase: str) -> str:
    """A pod whose keys are wrapped under the raw bytes of ``passphrase``, with
    key derivation parameters that say nothing of normalisation."""
    pod = store.create("een lange wachtzin 42", NOW)
    seed, kek = pod.key_material()
    salt = crypto.random_salt()
    passkey = crypto.derive_key(passphrase, salt, *INTERACTIVE)
    unlock_key = crypto.combine(passkey, store.keyring.shard(store.pod_id(pod.did)))
    record = json.dumps({"seed": b64(seed), "kek": b64(kek)}).encode()
    path = store.directory(pod.did) / "pod.json"
    meta = json.loads(path.read_bytes())
    meta["kdf"] = {"alg": "argon2id", "salt": b64(salt), "opslimit": INTERACTIVE[0],
                   "memlimit": INTERACTIVE[1]}
    meta["keys"] = b64(crypto.seal(unlock_key, record,
                                   b"vg-pod-keys|" + pod.did.encode()))
    path.write_text(json.dumps(meta))
    pod.lock()
    return pod.did


def sealed_raw(seed: bytes, passphrase: str) -> dict:
    salt = crypto.random_salt()
    key = crypto.derive_key(passphrase, salt, *INTERACTIVE)
    return {"alg": "argon2id+xchacha20poly1305", "salt": b64(salt),
            "opslimit": INTERACTIVE[0], "memlimit": INTERACTIVE[1],
            "sealed": b64(crypto.seal(key, seed, b"vg-pod-export-identity"))}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
