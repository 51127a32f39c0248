"""The command line: every refusal is one line on stderr with a non-zero exit, and a
mistyped data directory is never mistaken for a new instance."""

from __future__ import annotations

import os

import pytest

from vg.cli import run
from vg.settings import Settings
from vg.wiring import build_system


@pytest.fixture
def instance(tmp_path):
    build_system(Settings(data_dir=tmp_path / "instance"))
    return tmp_path / "instance"


@pytest.mark.parametrize("args", [
    ["nosuch"],
    ["keys", "revoke", "abc"],
    ["demo", "--holders", "5"],
    ["serve", "--port", "99999"],
    ["audit", "proof", "-5"],
    ["keys", "issue"],
    ["keys", "revoke", "999999999999999999999999"],
    ["audit", "record", "99999999999999999999999999"],
    ["audit", "export", "--offset", "99999999999999999999999999"],
])
def test_a_bad_command_line_is_one_line_on_stderr(args, capsys):
    status = run(args)

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("vg: ") and err.count("\n") == 1


@pytest.mark.parametrize("args", [
    ["keys", "list"],
    ["keys", "issue", "GM0344"],
    ["keys", "revoke", "1"],
    ["audit", "checkpoint"],
    ["consent", "list", "did:key:z6Mkexample"],
])
def test_commands_on_a_directory_without_an_instance_create_nothing(
        args, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VG_PASSPHRASE", "een lange wachtzin 42")
    missing = tmp_path / "typo"

    status = run([*args, "--data-dir", str(missing)])

    assert status == 2
    assert "holds no instance" in capsys.readouterr().err
    assert not missing.exists()


def test_a_key_label_with_control_characters_is_refused(instance, capsys):
    label = "x\n99\tGM0599\tplatform-dpo\tfake"

    status = run(["keys", "issue", "GM0344", "--label", label,
                  "--data-dir", str(instance)])
    listed = run(["keys", "list", "--data-dir", str(instance)])

    out = capsys.readouterr()
    assert (status, listed) == (2, 0)
    assert "label must be 1 to 80 printable characters" in out.err
    assert out.out == ""


def test_a_key_for_an_existing_instance_is_issued_and_listed(instance, capsys):
    assert run(["keys", "issue", "GM0344", "--data-dir", str(instance)]) == 0
    key = capsys.readouterr().out.strip()
    assert run(["keys", "list", "--data-dir", str(instance)]) == 0
    assert key.startswith("vgk_")
    assert "GM0344" in capsys.readouterr().out


def test_no_arguments_shows_the_help(capsys):
    assert run([]) == 0
    assert "Usage" in capsys.readouterr().out


def test_a_record_and_its_proof_from_the_command_line_check_offline(
        instance, tmp_path, capsys):
    """The README's walk: vkey, proof N, the record's exact bytes, check-proof."""
    from datetime import datetime, timezone

    from registry import Requester
    from vg.oversight import log_read

    system = build_system(Settings(data_dir=instance))
    dpo = Requester("GM0344", "dpo:test", "dpo")
    log_read(system, dpo, datetime.now(timezone.utc), "0" * 31 + "1",
             "read-audit-log", 0)
    where = ["--data-dir", str(instance)]
    outputs = {}
    for name, args in (("vkey", ["audit", "vkey"]), ("proof", ["audit", "proof", "0"]),
                       ("record", ["audit", "record", "0"])):
        assert run([*args, *where]) == 0, capsys.readouterr().err
        outputs[name] = capsys.readouterr().out
    (tmp_path / "0.tlog-proof").write_text(outputs["proof"])
    (tmp_path / "record.json").write_text(outputs["record"])

    status = run(["audit", "check-proof", str(tmp_path / "0.tlog-proof"),
                  str(tmp_path / "record.json"), "--vkey", outputs["vkey"].strip()])

    assert status == 0, capsys.readouterr().err
    assert '"ok": true' in capsys.readouterr().out
    assert run(["audit", "record", "5", *where]) == 1
    assert capsys.readouterr().err == "vg: the log has no entry 5\n"


def _logged_reads(instance, count):
    from datetime import datetime, timezone

    from registry import Requester
    from vg.oversight import log_read

    system = build_system(Settings(data_dir=instance))
    dpo = Requester("GM0344", "dpo:test", "dpo")
    for n in range(count):
        log_read(system, dpo, datetime.now(timezone.utc), f"{n + 1:032x}",
                 "read-audit-log", 0)
    return system


def test_verify_reports_records_deleted_under_a_raised_pruned_count(
        instance, capsys):
    import sqlite3

    _logged_reads(instance, 8)
    with sqlite3.connect(instance / "audit.sqlite") as db:
        db.execute("UPDATE audit_head SET pruned = 6")
        db.execute("DELETE FROM audit_entries WHERE idx < 6")
        db.execute("DELETE FROM audit_access WHERE idx < 6")

    status = run(["audit", "verify", "--data-dir", str(instance)])

    out = capsys.readouterr().out
    assert status == 1
    assert '"ok": false' in out and '"firstBadIndex": 0' in out
    assert "no retention prune record" in out


def test_verify_names_a_changed_node_hash_of_a_full_tile(instance, capsys):
    import sqlite3

    _logged_reads(instance, 260)  # the first tile of leaves is full
    first = "WHERE level = 0 AND number = 0"
    with sqlite3.connect(instance / "audit.sqlite") as db:
        nodes = db.execute(f"SELECT nodes FROM audit_tiles {first}").fetchone()[0]
        db.execute(f"UPDATE audit_tiles SET nodes = ? {first}",
                   (bytes([nodes[0] ^ 1]) + nodes[1:],))

    status = run(["audit", "verify", "--data-dir", str(instance)])

    out = capsys.readouterr().out
    assert status == 1 and '"firstBadIndex": 0' in out
    assert "the stored node hash at level 1, position 0 (tile 0/0) is wrong" in out


def test_verify_checks_each_prune_against_the_retention_period(instance, capsys):
    from datetime import datetime, timedelta, timezone

    system = _logged_reads(instance, 3)
    now = datetime.now(timezone.utc)
    system.audit.prune(now + timedelta(days=1), now=now)  # not retention's
    where = ["--data-dir", str(instance)]

    status = run(["audit", "verify", *where])

    out = capsys.readouterr().out
    assert status == 1 and '"firstBadIndex": 3' in out
    assert "within the retention period of 730 days" in out


def test_consent_says_which_instance_is_missing_before_asking_anything(
        tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VG_PASSPHRASE", raising=False)

    status = run(["consent", "list", "did:key:z6Mkexample",
                  "--data-dir", str(tmp_path / "typo")])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("vg: ") and err.count("\n") == 1
    assert "holds no instance" in err


def test_consent_without_a_passphrase_or_a_terminal_says_so(instance, capsys,
                                                             monkeypatch):
    monkeypatch.delenv("VG_PASSPHRASE", raising=False)

    status = run(["consent", "list", "did:key:z6Mkexample",
                  "--data-dir", str(instance)])

    err = capsys.readouterr().err
    assert status == 2
    assert err == "vg: no passphrase: set VG_PASSPHRASE or run in a terminal\n"


@pytest.mark.parametrize("kind", ["pipe", "directory", "large"])
def test_a_file_argument_is_refused_without_reading_past_its_bound(
        kind, instance, tmp_path, capsys):
    path = tmp_path / "checkpoint"
    if kind == "pipe":
        os.mkfifo(path)  # opening it for reading would wait for a writer
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_bytes(b"x" * ((1 << 20) + 1))

    status = run(["audit", "verify", "--checkpoint", str(path),
                  "--data-dir", str(instance)])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("vg: ") and err.count("\n") == 1
    expected = "larger than 1 MiB" if kind == "large" else (
        "not a regular file" if kind == "pipe" else "can not be read")
    assert expected in err


def test_a_refusal_never_echoes_a_huge_argument_whole(instance, capsys):
    status = run(["keys", "issue", "x" * 5000, "--role", "staff",
                  "--data-dir", str(instance)])

    err = capsys.readouterr().err
    assert status == 2 and err.startswith("vg: ") and err.count("\n") == 1
    assert len(err) <= 310


def test_consent_takes_no_passphrase_as_an_argument(instance, capsys, monkeypatch):
    """An argument is readable by every local user in the process list while the
    key derivation runs, and stays in the shell history."""
    monkeypatch.delenv("VG_PASSPHRASE", raising=False)

    status = run(["consent", "list", "did:key:z6Mkexample", "--passphrase",
                  "een lange wachtzin 42", "--data-dir", str(instance)])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("vg: ") and err.count("\n") == 1
    assert "no such option: --passphrase " in err.lower()
    assert "een lange wachtzin" not in err


@pytest.mark.parametrize("kind", ["missing", "directory", "large", "empty"])
def test_a_passphrase_file_that_can_not_be_used_is_refused_in_one_line(
        kind, instance, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VG_PASSPHRASE", raising=False)
    path = tmp_path / "wachtzin"
    if kind == "directory":
        path.mkdir()
    elif kind == "large":
        path.write_bytes(b"x" * 5000)
    elif kind == "empty":
        path.write_bytes(b"\n")

    status = run(["consent", "list", "did:key:z6Mkexample",
                  "--passphrase-file", str(path), "--data-dir", str(instance)])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("vg: ") and err.count("\n") == 1
