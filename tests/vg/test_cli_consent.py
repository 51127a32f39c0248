"""Withdrawal is one command, as it is one request: the registry's data is gone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from consent import Audience
from tests.factories import UTRECHT, full_workcontext
from vg.cli import app
from vg.consent_flows import renew_consent
from vg.holder_flows import grant_consent, save_workcontext
from vg.settings import Settings
from vg.wiring import build_system

PASSPHRASE = "een lange wachtzin 42"


@pytest.mark.parametrize("spelling", ["urn", "bare"])
def test_withdraw_on_the_command_line_deletes_the_registry_data(tmp_path, spelling):
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)
    save_workcontext(system, pod, full_workcontext(pod.did), now)
    grant = grant_consent(system, pod, {"kind": "employer", "employer": UTRECHT},
                          ["matching"], ["skills"], now + timedelta(days=3), now)
    staff = system.registry.access.authenticate(
        system.registry.access.issue_key(UTRECHT, "staff", "t", now))
    assert len(system.registry.gate.visible(staff, "matching", now)) == 1
    runner = CliRunner()
    env = {"VG_PASSPHRASE": PASSPHRASE}
    args = ["--data-dir", str(tmp_path)]

    given = grant.id if spelling == "urn" else grant.id.removeprefix("urn:uuid:")
    withdrawn = runner.invoke(app, ["consent", "withdraw", pod.did, given, *args],
                              env=env)
    listed = runner.invoke(app, ["consent", "list", pod.did, *args], env=env)

    assert withdrawn.exit_code == 0, withdrawn.output
    assert system.registry.gate.visible(staff, "matching", now) == []
    line = json.loads(listed.output.strip())
    assert line["id"] == grant.id and not line["live"]
    assert [e[0] for e in line["events"]] == ["given", "withdrawn"]
    assert Audience.from_json(line["audience"]).kind == "employer"


def test_withdrawing_an_unknown_grant_fails_and_changes_nothing(tmp_path):
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)

    result = CliRunner().invoke(app, ["consent", "withdraw", pod.did, "urn:uuid:nope",
                                      "--data-dir", str(tmp_path)],
                                env={"VG_PASSPHRASE": PASSPHRASE})

    assert result.exit_code != 0
    assert pod.grants() == []


def test_a_holder_names_their_pod_by_its_pod_id_on_the_command_line(tmp_path):
    """The demo and the web pages show the pod id; the command takes it as well."""
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)
    save_workcontext(system, pod, full_workcontext(pod.did), now)
    grant = grant_consent(system, pod, {"kind": "employer", "employer": UTRECHT},
                          ["matching"], ["skills"], now + timedelta(days=3), now)
    args = ["--data-dir", str(tmp_path)]
    env = {"VG_PASSPHRASE": PASSPHRASE}

    listed = CliRunner().invoke(app, ["consent", "list", system.pods.pod_id(pod.did),
                                      *args], env=env)
    unknown = CliRunner().invoke(app, ["consent", "list", "0" * 32, *args], env=env)

    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output.strip())["id"] == grant.id
    assert unknown.exit_code != 0


def test_withdrawing_a_renewed_grant_on_the_command_line_withdraws_its_renewal(
        tmp_path):
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)
    save_workcontext(system, pod, full_workcontext(pod.did), now)
    old = grant_consent(system, pod, {"kind": "employer", "employer": UTRECHT},
                        ["matching"], ["skills"], now + timedelta(days=3), now)
    new = renew_consent(system, pod, old.id, now + timedelta(days=30), now)
    env = {"VG_PASSPHRASE": PASSPHRASE}
    args = ["--data-dir", str(tmp_path)]

    withdrawn = CliRunner().invoke(app, ["consent", "withdraw", pod.did, old.id, *args],
                                   env=env)
    listed = CliRunner().invoke(app, ["consent", "list", pod.did, *args], env=env)

    assert withdrawn.exit_code == 0, withdrawn.output
    assert withdrawn.output.splitlines() == [f"withdrawn {old.id}",
                                             f"withdrawn {new.id}"]
    lines = [json.loads(line) for line in listed.output.splitlines()]
    assert [(x["id"], x["live"], x.get("renews"), x.get("renewedBy")) for x in lines] == [
        (old.id, False, None, new.id), (new.id, False, old.id, None)]
    assert [e[0] for e in lines[0]["events"]] == ["given", "renewed"]
    assert lines[0]["events"][1][2] == new.id


def test_listing_grants_on_the_command_line_does_not_sign_the_holder_out(tmp_path):
    """The command reads its settings without the server's cost level; a look at
    the grants does not re-wrap the pod, so the holder's session keeps working."""
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)

    listed = CliRunner().invoke(app, ["consent", "list", pod.did, "--data-dir",
                                      str(tmp_path)], env={"VG_PASSPHRASE": PASSPHRASE})

    assert listed.exit_code == 0, listed.output
    assert system.pods.open_with_key(pod.did, pod.passkey).did == pod.did


def test_a_withdrawal_the_registry_can_not_take_says_so_and_is_kept(tmp_path,
                                                                   monkeypatch):
    from registry import StorageFailed
    from registry.service import Registry

    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)
    save_workcontext(system, pod, full_workcontext(pod.did), now)
    grant = grant_consent(system, pod, {"kind": "employer", "employer": UTRECHT},
                          ["matching"], ["skills"], now + timedelta(days=3), now)

    def unavailable(*_args):
        raise StorageFailed()

    monkeypatch.setattr(Registry, "receive_withdrawal", unavailable)
    result = CliRunner().invoke(app, ["consent", "withdraw", pod.did, grant.id,
                                      "--data-dir", str(tmp_path)],
                                env={"VG_PASSPHRASE": PASSPHRASE})

    assert result.exit_code == 75
    assert f"pending {grant.id}" in result.stdout
    assert "registry is unavailable" in result.stderr
    assert len(system.withdrawals.pending()) == 1


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_script_gives_the_passphrase_in_a_file_or_on_standard_input(tmp_path,
                                                                      source):
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=tmp_path / "data", kdf_level="interactive"))
    pod = system.pods.create(PASSPHRASE, now)
    save_workcontext(system, pod, full_workcontext(pod.did), now)
    grant = grant_consent(system, pod, {"kind": "employer", "employer": UTRECHT},
                          ["matching"], ["skills"], now + timedelta(days=3), now)
    secret = tmp_path / "wachtzin"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    given = str(secret) if source == "file" else "-"

    listed = CliRunner().invoke(
        app, ["consent", "list", pod.did, "--passphrase-file", given,
              "--data-dir", str(tmp_path / "data")],
        input=PASSPHRASE + "\n" if source == "stdin" else None, env={})

    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output.strip())["id"] == grant.id
