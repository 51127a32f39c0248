"""Every Argon2id derivation of the server runs through one limiter: a bounded number
at once, and never at a cost above what the server accepts."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest

from pod import crypto
from pod.derivation import KeyDerivation

REPO = Path(__file__).resolve().parents[2]
SALT = b"\x01" * crypto.SALT_BYTES


def recording(monkeypatch) -> list[tuple[int, int]]:
    calls = []
    derive = crypto.derive_key
    monkeypatch.setattr(crypto, "derive_key", lambda passphrase, salt, ops, mem: (
        calls.append((ops, mem)), derive(passphrase, salt, ops, mem))[1])
    return calls


def test_the_ceiling_is_the_moderate_level_or_the_configured_cost_if_higher():
    assert KeyDerivation(crypto.INTERACTIVE).ceiling == crypto.MODERATE
    assert KeyDerivation(crypto.MODERATE).ceiling == crypto.MODERATE
    higher = (crypto.MODERATE[0] + 1, crypto.MODERATE[1] * 2)
    assert KeyDerivation(higher).ceiling == higher


def test_new_keys_are_made_at_the_configured_cost(monkeypatch):
    calls = recording(monkeypatch)

    KeyDerivation(crypto.INTERACTIVE).derive_new("a passphrase", SALT)

    assert calls == [crypto.INTERACTIVE]


@pytest.mark.parametrize("cost", [
    (crypto.MODERATE[0] + 1, crypto.MODERATE[1]),
    (crypto.MODERATE[0], crypto.MODERATE[1] + 1),
    (crypto.MAX_OPSLIMIT, crypto.MAX_MEMLIMIT),
    (crypto.MIN_OPSLIMIT - 1, crypto.MIN_MEMLIMIT),
    (True, crypto.MIN_MEMLIMIT),
    ("2", crypto.MIN_MEMLIMIT),
])
def test_a_cost_outside_what_the_server_accepts_is_refused_without_deriving(
        monkeypatch, cost):
    calls = recording(monkeypatch)
    derivation = KeyDerivation(crypto.INTERACTIVE)

    assert not derivation.accepts(*cost)
    with pytest.raises(ValueError):
        derivation.derive("a passphrase", SALT, *cost)
    assert calls == []


def test_no_more_derivations_run_at_once_than_the_limit(monkeypatch):
    running, most, guard = 0, 0, threading.Lock()

    def slow(passphrase, salt, ops, mem):
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with guard:
            running -= 1
        return bytes(32)

    monkeypatch.setattr(crypto, "derive_key", slow)
    derivation = KeyDerivation(crypto.INTERACTIVE, concurrent=2)
    threads = [threading.Thread(target=derivation.derive_new, args=("p" * 12, SALT))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most == 2


def _calls_outside(allowed: set[str], names: set[str]) -> list[str]:
    found = []
    for package in ("schemas", "consent", "pod", "registry", "audit", "vg", "bench"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if relative in allowed:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = (node.attr if isinstance(node, ast.Attribute)
                        else node.id if isinstance(node, ast.Name) else None)
                if name in names:
                    found.append(f"{relative}:{node.lineno} {name}")
    return found


def test_only_the_limiter_derives_keys():
    assert _calls_outside({"pod/crypto.py", "pod/derivation.py"},
                          {"derive_key", "pwhash", "argon2id"}) == []


def test_an_imitated_derivation_waits_for_a_place_but_does_not_keep_it():
    derivation = KeyDerivation(crypto.INTERACTIVE, concurrent=1)
    derivation.derive("een lange wachtzin 42", SALT, *crypto.INTERACTIVE)
    derivation._typical = 0.5
    imitating = threading.Thread(target=derivation.imitate, args=("x" * 12, SALT))

    with derivation.slot():
        imitating.start()
        time.sleep(0.2)
        assert imitating.is_alive()  # waits while the only place is taken
    time.sleep(0.1)
    started = time.perf_counter()
    with derivation.slot():  # free again while the imitation still sleeps
        waited = time.perf_counter() - started
    assert imitating.is_alive() and waited < 0.2
    imitating.join()
