"""A pod opened for a session keeps its unwrapped keys until the session ends; an
expired session, a sign-out, a new passphrase, a re-wrap and an erasure leave
nothing that opens the pod, in this process or in another worker's (a second
store on the same files)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pod import SessionSealer, UnlockFailed
from pod.crypto import INTERACTIVE
from pod.opened import OpenedKeys, OpenedPods
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store

UNTIL = NOW + timedelta(minutes=30)
NEW_PASSPHRASE = "een andere lange wachtzin 7"
RAISED = (INTERACTIVE[0] + 1, INTERACTIVE[1])


@pytest.fixture
def saved(tmp_path):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=16), NOW)
    return store, pod.did, pod.passkey


def _open(store: PodStore, did: str, passkey: bytes, now=NOW):
    return store.open_with_key(did, passkey, now, until=UNTIL)


def _entry(store: PodStore, did: str):
    return store.opened._entries.get(did)


def test_a_session_opens_its_pod_again_from_the_kept_keys(saved, monkeypatch):
    store, did, passkey = saved
    expected = _open(store, did, passkey).workcontext()

    monkeypatch.setattr("pod.store.crypto.open_sealed", _no_unwrap)
    again = _open(store, did, passkey)
    monkeypatch.undo()

    assert again.workcontext() == expected
    assert again.shard_digest and len(store.opened) == 1


def test_an_open_without_the_session_expiry_keeps_nothing(saved):
    store, did, passkey = saved

    store.open_with_key(did, passkey, NOW)

    assert len(store.opened) == 0


def test_a_request_locking_its_pod_leaves_the_kept_keys_whole(saved):
    store, did, passkey = saved
    _open(store, did, passkey).lock()

    document = _open(store, did, passkey).workcontext()
    assert document["availability"]["hoursPerWeek"] == 16


def test_kept_keys_go_when_the_session_expires(saved):
    store, did, passkey = saved
    _open(store, did, passkey)
    entry = _entry(store, did)

    _open(store, did, passkey, now=UNTIL)

    assert _entry(store, did) is not entry and not entry.kek and not entry.seed


def test_the_minute_sweep_drops_the_keys_of_expired_sessions(saved):
    store, did, passkey = saved
    _open(store, did, passkey)

    assert store.forget_stale(UNTIL - timedelta(seconds=1)) == 0
    assert store.forget_stale(UNTIL) == 1
    assert len(store.opened) == 0


def test_signing_out_drops_the_kept_keys_at_once(saved, tmp_path):
    store, did, passkey = saved
    sealer = SessionSealer(b"\x11" * 32, signed_out_dir=tmp_path / "out",
                           ended=store.opened.forget)
    token = sealer.issue(did, passkey, NOW)
    session = sealer.opened(token, NOW)
    store.open_with_key(session.did, session.passkey, NOW, until=session.expires)
    entry = _entry(store, did)

    sealer.sign_out(token, NOW)

    assert len(store.opened) == 0 and not entry.passkey and not entry.shard


def test_a_new_passphrase_ends_the_kept_session_in_every_worker(saved, tmp_path):
    store, did, passkey = saved
    other = pod_store(tmp_path / "pods")  # another worker on the same files
    _open(store, did, passkey)
    _open(other, did, passkey)

    store.change_passphrase(did, PASSPHRASE, NEW_PASSPHRASE)

    assert _entry(store, did) is None
    for worker in (store, other):
        with pytest.raises(UnlockFailed):
            _open(worker, did, passkey)
    assert _entry(other, did) is None


def test_an_erasure_ends_the_kept_session_in_every_worker(saved, tmp_path):
    store, did, passkey = saved
    other = pod_store(tmp_path / "pods")
    pod = _open(store, did, passkey)
    _open(other, did, passkey)

    store.erase(pod)

    assert _entry(store, did) is None
    assert other.forget_stale(NOW) == 1 and _entry(other, did) is None
    for worker in (store, other):
        with pytest.raises(UnlockFailed):
            _open(worker, did, passkey)


def test_a_pod_erased_elsewhere_does_not_open_from_the_kept_keys(saved, tmp_path):
    store, did, passkey = saved
    other = pod_store(tmp_path / "pods")
    _open(other, did, passkey)

    store.erase(store.open_with_key(did, passkey))

    with pytest.raises(UnlockFailed):
        _open(other, did, passkey)
    assert _entry(other, did) is None


def test_a_shard_changed_elsewhere_is_not_opened_from_the_kept_keys(saved):
    store, did, passkey = saved
    _open(store, did, passkey)
    shard_file = store.keyring._path(store.pod_id(did))
    entry = json.loads(shard_file.read_bytes())
    shard_file.write_text(json.dumps({**entry, "generation": 1}))

    assert _open(store, did, passkey).did == did  # opened again from the files
    assert _entry(store, did).shard_file == shard_file.read_bytes()


def test_a_passkey_kept_before_a_re_wrap_is_not_kept_after_it(saved, tmp_path):
    store, did, passkey = saved
    _open(store, did, passkey)
    raised = PodStore(tmp_path / "pods", kdf_cost=RAISED,
                      rewrap_grace=timedelta(minutes=30))

    raised.unlock(did, PASSPHRASE, now=NOW)

    # The old session still opens, with the keys wrapped before, until the grace
    # ends; those are never kept, as their use ends with time.
    assert _open(store, did, passkey).did == did
    assert _entry(store, did) is None
    with pytest.raises(UnlockFailed):
        _open(store, did, passkey, now=NOW + timedelta(minutes=30))


def test_another_passkey_is_not_opened_by_the_kept_keys(saved):
    store, did, passkey = saved
    _open(store, did, passkey)

    with pytest.raises(UnlockFailed):
        _open(store, did, bytes(32))
    assert _entry(store, did) is not None  # the live session keeps its keys


def test_the_oldest_kept_keys_go_first_and_are_wiped():
    opened = OpenedPods(capacity=2)
    entries = [_kept(i) for i in range(3)]

    for number, entry in enumerate(entries):
        opened.keep(f"did:{number}", entry, NOW)

    assert len(opened) == 2 and "did:0" not in opened._entries
    assert not entries[0].kek and entries[1].kek


def _kept(number: int) -> OpenedKeys:
    key = bytearray([number + 1] * 32)
    return OpenedKeys(bytearray(key), bytearray(key), bytearray(key),
                      bytearray(key), "digest", b"{}", bytearray(b"{}"),
                      UNTIL.timestamp())


def _no_unwrap(*_):
    raise AssertionError("the keys were unwrapped again")


def test_a_file_longer_than_one_read_is_read_whole(tmp_path):
    from pod.store import _READ, _read_file

    for size in (0, 1, _READ - 1, _READ, _READ + 1, 3 * _READ):
        path = tmp_path / f"{size}.bin"
        path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))

        assert _read_file(path) == path.read_bytes()
