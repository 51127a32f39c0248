"""Revoking an API key from the command line: a second revocation says the key
is already revoked (not that it never existed), a revoked key authenticates
nothing, and its id is never handed to a later key."""

from __future__ import annotations

import pytest

from registry import NotAuthenticated
from vg.cli import run
from vg.settings import Settings
from vg.wiring import build_system


@pytest.fixture
def instance(tmp_path):
    build_system(Settings(data_dir=tmp_path / "instance"))
    return tmp_path / "instance"


def _issue(instance, capsys) -> tuple[int, str]:
    assert run(["keys", "issue", "GM0344", "--data-dir", str(instance)]) == 0
    key = capsys.readouterr().out.strip()
    access = build_system(Settings(data_dir=instance)).registry.access
    return int(access.authenticate(key).actor.removeprefix("apikey:")), key


def test_revoking_a_revoked_key_says_it_is_already_revoked(instance, capsys):
    key_id, _ = _issue(instance, capsys)
    assert run(["keys", "revoke", str(key_id), "--data-dir", str(instance)]) == 0
    assert capsys.readouterr().out == f"revoked {key_id}\n"

    status = run(["keys", "revoke", str(key_id), "--data-dir", str(instance)])

    err = capsys.readouterr().err
    assert status != 0
    assert err == f"vg: API key {key_id} is already revoked\n"


def test_revoking_a_key_that_never_existed_says_so(instance, capsys):
    status = run(["keys", "revoke", "41", "--data-dir", str(instance)])

    assert status != 0
    assert capsys.readouterr().err == "vg: no API key with id 41\n"


def test_a_revoked_key_authenticates_nothing_and_is_not_listed(instance, capsys):
    key_id, key = _issue(instance, capsys)
    assert run(["keys", "revoke", str(key_id), "--data-dir", str(instance)]) == 0
    capsys.readouterr()

    access = build_system(Settings(data_dir=instance)).registry.access
    with pytest.raises(NotAuthenticated):
        access.authenticate(key)
    assert key_id not in [row.id for row in access.keys()]


def test_the_id_of_a_revoked_key_is_not_given_to_a_later_key(instance, capsys):
    key_id, _ = _issue(instance, capsys)
    assert run(["keys", "revoke", str(key_id), "--data-dir", str(instance)]) == 0
    capsys.readouterr()

    later_id, _ = _issue(instance, capsys)

    assert later_id != key_id
