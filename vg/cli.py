"""The ``vg`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from .cli_consent import consent
from .settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Virtuele Gemeente: pods, consent, registry and audit log.")
keys = typer.Typer(no_args_is_help=True, help="API keys for organisations.")
audit = typer.Typer(no_args_is_help=True, help="The access log.")
app.add_typer(keys, name="keys")
app.add_typer(audit, name="audit")
db = typer.Typer(no_args_is_help=True, help="The registry database.")
app.add_typer(db, name="db")
app.add_typer(consent, name="consent")


def _settings(data_dir: Optional[Path]) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def _fail(message: str) -> None:
    typer.echo(f"vg: {message}", err=True)
    raise typer.Exit(2)


@app.command()
def demo(holders: int = typer.Option(2000, min=10, max=100_000),
         data_dir: Path = typer.Option(Path("var/demo"), help="emptied and rebuilt"),
         seed: int = typer.Option(2026)) -> None:
    """Build a fresh embedded instance on the real reference data and walk through it."""
    from .demo import run_demo

    settings = Settings(data_dir=data_dir, kdf_level="interactive")
    result = run_demo(settings, holders=holders, seed=seed, out=typer.echo)
    if not (result["audit_ok"] and result["withdrawn_candidate_gone"]):
        _fail("the demo's checks failed (see above)")


@app.command()
def serve(data_dir: Optional[Path] = typer.Option(None),
          port: Optional[int] = typer.Option(None)) -> None:
    """Run the API on 127.0.0.1."""
    import uvicorn

    from .app import create_app

    settings = _settings(data_dir)
    # No access log: it would record client addresses and paths (BIO 8.15.02).
    uvicorn.run(create_app(settings), host=settings.host, port=port or settings.port,
                log_level="info", access_log=False)


@keys.command("issue")
def issue_key(organisation: str, role: str = typer.Option("staff"),
              label: str = typer.Option("cli"),
              data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Issue an API key (printed once; only its hash is stored)."""
    from .wiring import build_system

    system = build_system(_settings(data_dir))
    if system.registry.access.organisation(organisation) is None:
        _fail(f"organisation {organisation!r} is not known")
    try:
        key = system.registry.access.issue_key(organisation, role, label,
                                               datetime.now(timezone.utc))
    except ValueError as exc:
        _fail(str(exc))
    typer.echo(key)


@audit.command("verify")
def verify(data_dir: Optional[Path] = typer.Option(None),
           checkpoint: Optional[Path] = typer.Option(
               None, help="JSON {size, headHash} saved earlier")) -> None:
    """Recompute the whole log; with --checkpoint, also detect a rollback or rewrite."""
    from .wiring import build_system

    expected = None
    if checkpoint is not None:
        try:
            saved = json.loads(checkpoint.read_text())
            expected = (int(saved["size"]), str(saved["headHash"]))
        except (OSError, ValueError, KeyError, TypeError):
            _fail(f"checkpoint {checkpoint} must be JSON with size and headHash")
    report = build_system(_settings(data_dir)).audit.verify(expected)
    typer.echo(json.dumps({"ok": report.ok, "size": report.size,
                           "headHash": report.head_hash,
                           "firstBadSequence": report.first_bad_seq,
                           "problem": report.problem}))
    if not report.ok:
        raise typer.Exit(1)


@keys.command("list")
def list_keys(organisation: Optional[str] = typer.Option(None),
              data_dir: Optional[Path] = typer.Option(None)) -> None:
    """List API keys (id, organisation, role, label, created); never the key."""
    from .wiring import build_system

    for row in build_system(_settings(data_dir)).registry.access.keys(organisation):
        typer.echo(f"{row.id}\t{row.organisation}\t{row.role}\t{row.label}\t"
                   f"{row.created.isoformat()}")


@keys.command("revoke")
def revoke_key(key_id: int, data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Revoke an API key by its id; requests with it fail from then on."""
    from .wiring import build_system

    if not build_system(_settings(data_dir)).registry.access.revoke(key_id):
        _fail(f"no API key with id {key_id}")
    typer.echo(f"revoked {key_id}")


@db.command("upgrade")
def db_upgrade(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Create or migrate the registry schema to the newest revision, keeping data."""
    from registry import make_engine, upgrade

    settings = _settings(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.registry_url())
    try:
        typer.echo(f"registry schema at revision {upgrade(engine)}")
    finally:
        engine.dispose()


def main() -> None:
    # Everything the process writes (SQLite files, secrets, pods) is for this user
    # alone: the registry database holds personal data (GDPR art. 32).
    os.umask(0o077)
    try:
        app()
    except Exception as exc:  # one line, never a stack trace, for operators
        status = getattr(exc, "status", None)
        typer.echo(f"vg: {exc}" if status else f"vg: unexpected {type(exc).__name__}: {exc}",
                   err=True)
        sys.exit(1)
