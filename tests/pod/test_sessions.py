"""A holder session token opens the pod until it expires; any other token is one
opaque SessionInvalid."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consent.keys import b64url, b64url_decode
from pod import SessionInvalid, SessionSealer
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
KEK = bytes(range(32))
LIFETIME = timedelta(minutes=30)


@pytest.fixture
def sealer() -> SessionSealer:
    return SessionSealer(b"\x11" * 32, LIFETIME)


def test_an_issued_token_opens_to_the_did_and_key(sealer):
    token = sealer.issue(DID, KEK, NOW)

    assert sealer.open(token, NOW) == (DID, KEK)
    assert sealer.open(token, NOW + LIFETIME - timedelta(seconds=1)) == (DID, KEK)


def test_a_token_never_shows_the_key_or_the_did(sealer):
    token = sealer.issue(DID, KEK, NOW)

    assert b64url(KEK) not in token and DID not in token
    assert KEK not in b64url_decode(token) and DID.encode() not in b64url_decode(token)


def test_a_session_reopens_the_pod_without_the_passphrase(tmp_path, sealer):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did), NOW)

    did, kek = sealer.open(sealer.issue(pod.did, pod.passkey, NOW), NOW)

    assert store.open_with_key(did, kek).workcontext() == pod.workcontext()


@pytest.mark.parametrize("after", [LIFETIME, LIFETIME + timedelta(seconds=1),
                                   timedelta(days=400)])
def test_an_expired_token_is_invalid(sealer, after):
    token = sealer.issue(DID, KEK, NOW)

    with pytest.raises(SessionInvalid):
        sealer.open(token, NOW + after)


def test_a_token_with_any_byte_changed_is_invalid(sealer):
    raw = b64url_decode(sealer.issue(DID, KEK, NOW))

    for index in range(len(raw)):
        altered = bytearray(raw)
        altered[index] ^= 0x01
        with pytest.raises(SessionInvalid):
            sealer.open(b64url(bytes(altered)), NOW)


@pytest.mark.parametrize("alter", [
    lambda t: "",
    lambda t: t[:-8],
    lambda t: t[:20],
    lambda t: t + "AAAA",
    lambda t: "!" + t[1:],
    lambda t: "é" + t[1:],
    lambda t: t[: len(t) // 2] + "A" + t[len(t) // 2 + 1:]
    if t[len(t) // 2] != "A" else t[: len(t) // 2] + "B" + t[len(t) // 2 + 1:],
    lambda t: t[::-1],
], ids=["empty", "cut", "short", "longer", "bad-char", "non-ascii", "one-char",
        "reversed"])
def test_an_altered_token_is_invalid(sealer, alter):
    token = sealer.issue(DID, KEK, NOW)

    with pytest.raises(SessionInvalid):
        sealer.open(alter(token), NOW)


def test_a_token_of_another_server_is_invalid(sealer):
    other = SessionSealer(b"\x22" * 32, LIFETIME)

    with pytest.raises(SessionInvalid):
        sealer.open(other.issue(DID, KEK, NOW), NOW)


def test_session_invalid_says_nothing_about_why(sealer):
    token = sealer.issue(DID, KEK, NOW)
    messages = set()
    for bad, when in ((token, NOW + LIFETIME), (token[:-8], NOW), ("", NOW)):
        with pytest.raises(SessionInvalid) as caught:
            sealer.open(bad, when)
        messages.add(str(caught.value))

    assert len(messages) == 1


def test_a_session_secret_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError):
        SessionSealer(b"short")


def _other_spellings(token: str) -> list[str]:
    """Texts that a lenient base64 decoder reads as the same bytes as ``token``."""
    spellings = [token + "=", token + "==", token + "===", token + "\n",
                 token[:10] + "!" + token[10:], token[:10] + "=" + token[10:],
                 token.replace("-", "+").replace("_", "/")]
    # The last character carries spare bits when the length is not a multiple of 4.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    spare = {2: 0b1111, 3: 0b11}.get(len(token) % 4, 0)
    if spare:
        spellings.append(token[:-1] + alphabet[last ^ 1])
    return [s for s in spellings if s != token]


def test_only_the_issued_spelling_of_a_token_opens(sealer):
    token = sealer.issue(DID, KEK, NOW)
    while "-" not in token and "_" not in token:  # so the alphabet swap changes it
        token = sealer.issue(DID, KEK, NOW)

    for spelling in _other_spellings(token):
        with pytest.raises(SessionInvalid):
            sealer.open(spelling, NOW)


def test_a_signed_out_token_stays_out_in_every_spelling(tmp_path):
    sealer = SessionSealer(b"\x11" * 32, LIFETIME, signed_out_dir=tmp_path / "out")
    token = sealer.issue(DID, KEK, NOW)
    sealer.sign_out(token, NOW)

    for spelling in [token, *_other_spellings(token)]:
        with pytest.raises(SessionInvalid):
            sealer.open(spelling, NOW)


@pytest.mark.parametrize("text", ["QQ=", "QQ==", "QR", "Q", "QQ\n", "Q Q", "+/8",
                                  "", "é"])
def test_base64url_has_one_spelling_per_byte_string(text):
    if text == "":
        assert b64url_decode(text) == b""
        return
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_a_kept_token_is_refused_once_expired_or_signed_out(tmp_path):
    sealer = SessionSealer(b"\x11" * 32, LIFETIME, signed_out_dir=tmp_path / "out")
    token = sealer.issue(DID, KEK, NOW)
    assert sealer.open(token, NOW) == (DID, KEK)  # now kept

    with pytest.raises(SessionInvalid):
        sealer.open(token, NOW + LIFETIME)
    assert sealer.open(token, NOW) == (DID, KEK)
    sealer.sign_out(token, NOW)
    with pytest.raises(SessionInvalid):
        sealer.open(token, NOW)


def test_a_token_signed_out_by_another_worker_is_refused_where_it_is_kept(
        tmp_path):
    here = SessionSealer(b"\x11" * 32, LIFETIME, signed_out_dir=tmp_path / "out")
    there = SessionSealer(b"\x11" * 32, LIFETIME, signed_out_dir=tmp_path / "out")
    token = here.issue(DID, KEK, NOW)
    here.open(token, NOW)

    there.sign_out(token, NOW)

    with pytest.raises(SessionInvalid):
        here.open(token, NOW)


def test_an_opened_session_names_its_expiry(sealer):
    token = sealer.issue(DID, KEK, NOW)

    session = sealer.opened(token, NOW + timedelta(minutes=5))

    assert session == (DID, KEK, NOW.replace(microsecond=0) + LIFETIME)
