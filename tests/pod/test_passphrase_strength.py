"""The minimum length of a passphrase counts what the key is derived from: the
NFC form, in characters as a reader sees them (a letter and its combining accents
are one). A passphrase of only spaces or of one character repeated is refused,
at creation and at a change alike; pods made before keep opening."""

from __future__ import annotations

import pytest

from pod import WeakPassphrase
from tests.factories import NOW, PASSPHRASE, pod_store
from tests.pod.test_passphrase_forms import made_before_normalisation

SIX_DECOMPOSED = "e\u0301" * 6  # twelve code points, six characters
SIX_PRECOMPOSED = "\u00e9" * 6


@pytest.mark.parametrize("weak", [
    SIX_DECOMPOSED, SIX_PRECOMPOSED, " " * 12, "\t \n" * 5, "a" * 12, "\u00e9" * 14,
    "e\u0301\u0302" * 10 + "x", "",
])
def test_a_weak_passphrase_is_refused_at_creation(tmp_path, weak):
    store = pod_store(tmp_path / "pods")

    with pytest.raises(WeakPassphrase):
        store.create(weak, NOW)

    assert not any(p.name not in (".keyring", ".attempts")
                   for p in (tmp_path / "pods").glob("*"))


@pytest.mark.parametrize("weak", [SIX_DECOMPOSED, " " * 12, "z" * 20])
def test_a_weak_passphrase_is_refused_at_a_change(tmp_path, weak):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)

    with pytest.raises(WeakPassphrase):
        store.change_passphrase(pod.did, PASSPHRASE, weak)

    assert store.unlock(pod.did, PASSPHRASE).did == pod.did


def test_twelve_characters_with_accents_are_taken_in_either_form(tmp_path):
    store = pod_store(tmp_path / "pods")

    pod = store.create("cre\u0300me brule\u0301e", NOW)

    assert store.unlock(pod.did, "cr\u00e8me brul\u00e9e").did == pod.did


def test_a_pod_made_with_a_passphrase_now_refused_still_opens(tmp_path):
    """Made before the rule, with the raw bytes, so that opening it also re-wraps
    it under the NFC form with the same passphrase."""
    store = pod_store(tmp_path / "pods")
    did = made_before_normalisation(store, SIX_DECOMPOSED)

    assert store.unlock(did, SIX_DECOMPOSED).did == did
    assert store.unlock(did, SIX_PRECOMPOSED).did == did
