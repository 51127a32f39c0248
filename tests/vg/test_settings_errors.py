"""A wrong setting is one clear line: which ``VG_*`` variable, what is wrong with
it and what it may be, on stderr with a non-zero exit, for every command and for
the server's workers."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vg.cli import run
from vg.settings import ENV_PREFIX, Settings, SettingsInvalid, load_settings

BAD = [
    ("VG_PORT", "abc", "1 to 65535"),
    ("VG_PORT", "70000", "1 to 65535"),
    ("VG_KDF_LEVEL", "fast", "interactive, moderate"),
    ("VG_ENVIRONMENT", "staging", "development, production"),
    ("VG_SESSION_MINUTES", "0", "1 to 1440"),
    ("VG_AUDIT_RETENTION_DAYS", "1.5", "1 to 36500"),
    ("VG_PUBLIC_URL", "ftp://example", "http:// or https://"),
    ("VG_AUDIT_ORIGIN", "a b", "no spaces"),
]


@pytest.mark.parametrize("name, value, allowed", BAD)
def test_a_wrong_setting_names_the_variable_and_what_it_may_be(
        monkeypatch, name, value, allowed):
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsInvalid) as caught:
        load_settings()

    line = str(caught.value)
    assert line.startswith(name + " ") and allowed in line
    assert "\n" not in line
    assert "pydantic" not in line and "type=" not in line
    assert caught.value.setting == name


@pytest.mark.parametrize("name, value, allowed", BAD)
@pytest.mark.parametrize("args", [["keys", "list"], ["serve"]])
def test_the_command_line_says_it_in_one_line_and_exits_non_zero(
        monkeypatch, capsys, tmp_path, name, value, allowed, args):
    monkeypatch.setenv(name, value)

    status = run([*args, "--data-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"vg: setting {name} ") and err.count("\n") == 1
    assert allowed in err and "errors.pydantic.dev" not in err


def test_an_insecure_combination_names_both_settings(monkeypatch):
    monkeypatch.setenv("VG_ENVIRONMENT", "production")
    monkeypatch.setenv("VG_KDF_LEVEL", "interactive")

    with pytest.raises(SettingsInvalid) as caught:
        load_settings()

    assert str(caught.value).startswith("VG_KDF_LEVEL ")
    assert "VG_ENVIRONMENT" in str(caught.value)


def test_a_worker_with_a_wrong_setting_exits_with_one_line(tmp_path):
    env = {"VG_PORT": "abc", "VG_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    done = subprocess.run(
        [sys.executable, "-c", "from vg.app import app_from_environment as f; f()"],
        env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert done.stderr.startswith("vg: setting VG_PORT ")
    assert done.stderr.count("\n") == 1


def test_every_setting_has_its_allowed_values_described():
    assert ENV_PREFIX == "VG_"
    for name in Settings.model_fields:
        assert Settings.allowed(name) not in ("", "text"), name
