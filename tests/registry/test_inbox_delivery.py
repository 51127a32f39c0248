"""The file-drop inbox and the sealed box to a did:key."""

from __future__ import annotations

import os
import nacl.exceptions
import nacl.public
import pytest

from registry import FileDropInbox, StorageFailed
from registry.ratings import seal_to_did
from tests.factories import holder_key

def _private(n: int) -> nacl.public.PrivateKey:
    return holder_key(n)._key.to_curve25519_private_key()


def test_sealed_message_opens_only_with_the_holders_own_key():
    sealed = seal_to_did(holder_key(1).did, b"rating")

    assert nacl.public.SealedBox(_private(1)).decrypt(sealed) == b"rating"
    with pytest.raises(nacl.exceptions.CryptoError):
        nacl.public.SealedBox(_private(2)).decrypt(sealed)


def test_file_drop_writes_each_message_whole_into_the_holders_own_directory(tmp_path):
    inbox = FileDropInbox(tmp_path)
    did_a, did_b = holder_key(1).did, holder_key(2).did

    inbox.deliver(did_a, b"first")
    inbox.deliver(did_a, b"second")
    inbox.deliver(did_b, b"third")

    files_a = sorted(inbox.directory(did_a).iterdir())
    assert sorted(p.read_bytes() for p in files_a) == [b"first", b"second"]
    assert [p.read_bytes() for p in inbox.directory(did_b).iterdir()] == [b"third"]
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*"))
    assert all(did_a not in str(p) for p in tmp_path.rglob("*"))


def test_file_drop_leaves_nothing_behind_when_the_write_fails(tmp_path, monkeypatch):
    inbox = FileDropInbox(tmp_path)

    def broken(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(StorageFailed):
        inbox.deliver(holder_key(1).did, b"lost")
    assert list(inbox.directory(holder_key(1).did).iterdir()) == []
