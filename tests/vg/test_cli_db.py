"""``vg db upgrade`` brings an empty data directory to the newest schemas of the
registry and the audit log and says so; run again it changes nothing."""

from __future__ import annotations

from typer.testing import CliRunner

from audit.migrate import head_revision as audit_head_revision
from registry.migrate import head_revision
from vg.cli import app


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
    again = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])

    assert first.exit_code == again.exit_code == 0
    assert first.output.strip() == again.output.strip() == (
        f"registry schema at revision {head_revision()}\n"
        f"audit log schema at revision {audit_head_revision()}")
