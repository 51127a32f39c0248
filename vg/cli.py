"""The ``vg`` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import typer

from .cli_common import fail, instance_settings, read_bytes, settings_for
from .cli_consent import consent
from .cli_help import tidy_help
from .settings import Settings, SettingsInvalid, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Virtuele Gemeente: pods, consent, registry and audit log.")
keys = typer.Typer(no_args_is_help=True, help="API keys for organisations.")
audit = typer.Typer(no_args_is_help=True, help="The access log.")
app.add_typer(keys, name="keys")
app.add_typer(audit, name="audit")
db = typer.Typer(no_args_is_help=True, help="The registry database.")
app.add_typer(db, name="db")
app.add_typer(consent, name="consent")
MAX_FILE = 1 << 20  # checkpoints, proofs, entries and access views are small
MAX_ID = 2**31 - 1  # database ids
MAX_INDEX = 2**63 - 1  # log indexes, offsets and seeds fit a signed 64-bit integer
EXPORT_PAGE = 1000  # entries an export reads per query (the log's most per query)




@app.command()
def demo(holders: int = typer.Option(2000, min=10, max=100_000),
         data_dir: Path = typer.Option(Path("var/demo"), help="emptied and rebuilt"),
         seed: int = typer.Option(2026, min=0, max=MAX_INDEX)) -> None:
    """Build a fresh embedded instance on the real reference data and walk through it."""
    from .demo import run_demo

    settings = load_settings(data_dir=data_dir, kdf_level="interactive")
    # SIGTERM ends Python at once, without unwinding: the demo's worker processes
    # would be left running. As an exception it stops them first (demo/run.py).
    signal.signal(signal.SIGTERM, _stop)
    result = run_demo(settings, holders=holders, seed=seed, out=typer.echo)
    if not (result["audit_ok"] and result["withdrawn_candidate_gone"]):
        fail("the demo's checks failed (see above)")


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command()
def serve(data_dir: Optional[Path] = typer.Option(None),
          port: Optional[int] = typer.Option(None, min=1, max=65535),
          workers: int = typer.Option(1, min=1, max=64)) -> None:
    """Run the API on 127.0.0.1, in one process or several workers."""
    import uvicorn

    from .app import create_app

    settings = settings_for(data_dir)
    if port:  # the workers read their settings from the environment
        os.environ["VG_PORT"] = str(port)
        settings = settings.model_copy(update={"port": port})
    options = server_options(settings)
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each worker builds its own application from the environment; the databases
    # are created (migrated) here once, so the workers do not race to do it.
    from .wiring import build_system

    build_system(settings)
    os.environ["VG_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run("vg.app:app_from_environment", factory=True, workers=workers,
                **options)


def server_options(settings: Settings) -> dict:
    """How uvicorn serves: on the configured host and port, without an access log
    (it would record client addresses and paths, BIO 8.15.02), and taking a
    client's address from X-Forwarded-For only from ``VG_TRUSTED_PROXIES`` (by
    default uvicorn trusts the header from 127.0.0.1, so any client of a proxy on
    the same host that passes the header on would choose its own address)."""
    proxies = settings.trusted_proxy_networks()
    options = dict(host=settings.host, port=settings.port, log_level="info",
                   access_log=False, proxy_headers=bool(proxies))
    if proxies:
        options["forwarded_allow_ips"] = proxies
    return options


@keys.command("issue")
def issue_key(organisation: str, role: str = typer.Option("staff"),
              label: str = typer.Option("cli"),
              data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Issue an API key (printed once; only its hash is stored)."""
    from .wiring import build_system

    system = build_system(instance_settings(data_dir))
    if system.registry.access.organisation(organisation) is None:
        fail(f"organisation {organisation!r} is not known")
    try:
        key = system.registry.access.issue_key(organisation, role, label,
                                               datetime.now(timezone.utc))
    except ValueError as exc:
        fail(str(exc))
    typer.echo(key)


@audit.command("verify")
def verify(data_dir: Optional[Path] = typer.Option(None),
           checkpoint: Optional[Path] = typer.Option(
               None, help="a signed checkpoint saved earlier (vg audit checkpoint)"),
           vkey: Optional[str] = typer.Option(
               None, help="the log's verifier key, obtained independently")) -> None:
    """Rebuild the whole tree from the records and check it against every signed
    checkpoint; with --checkpoint, also against one you saved (rollback, rewrite)."""
    from audit import NoteError, Verifier

    from .wiring import build_system

    note = _read_text(checkpoint, "checkpoint") if checkpoint else None
    try:
        verifier = Verifier.parse(vkey) if vkey else None
    except NoteError as exc:
        fail(f"--vkey: {exc}")
    system = build_system(instance_settings(data_dir))
    report = system.audit.verify(note, verifier, timedelta(
        days=system.settings.audit_retention_days))
    typer.echo(json.dumps(report.to_json()))
    if not report.ok:
        raise typer.Exit(1)


@keys.command("list")
def list_keys(organisation: Optional[str] = typer.Option(None),
              data_dir: Optional[Path] = typer.Option(None)) -> None:
    """List API keys (id, organisation, role, label, created); never the key."""
    from .wiring import build_system

    access = build_system(instance_settings(data_dir)).registry.access
    for row in access.keys(organisation):
        typer.echo(f"{row.id}\t{row.organisation}\t{row.role}\t{row.label}\t"
                   f"{row.created.isoformat()}")


@keys.command("revoke")
def revoke_key(key_id: int = typer.Argument(..., min=1, max=MAX_ID),
               data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Revoke an API key by its id; requests with it fail from then on."""
    from .wiring import build_system

    access = build_system(instance_settings(data_dir)).registry.access
    outcome = access.revoke(key_id, datetime.now(timezone.utc))
    if outcome == "unknown":
        fail(f"no API key with id {key_id}")
    if outcome == "already revoked":
        fail(f"API key {key_id} is already revoked")
    typer.echo(f"revoked {key_id}")


@db.command("upgrade")
def db_upgrade(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Create or migrate the registry schema and the audit log's tables to the newest
    revision, keeping data."""
    from audit import make_engine as make_audit_engine
    from audit.migrate import upgrade as upgrade_audit
    from registry import make_engine, upgrade

    settings = settings_for(data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.registry_url())
    audit_engine = make_audit_engine(settings.audit_url())
    try:
        typer.echo(f"registry schema at revision {upgrade(engine)}")
        typer.echo(f"audit log schema at revision {upgrade_audit(audit_engine)}")
    finally:
        engine.dispose()
        audit_engine.dispose()


@audit.command("checkpoint")
def checkpoint(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Print the signed checkpoint of the log as it is now (save it to verify
    against later)."""
    from .wiring import build_system

    typer.echo(build_system(instance_settings(data_dir)).audit.checkpoint(
        datetime.now(timezone.utc)), nl=False)


@audit.command("vkey")
def vkey(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Print the log's verifier key (C2SP signed-note format)."""
    from .wiring import build_system

    typer.echo(build_system(instance_settings(data_dir)).audit.verifier.vkey())


@audit.command("proof")
def proof(index: int = typer.Argument(..., min=0, max=MAX_INDEX),
          data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Print a c2sp.org/tlog-proof of entry INDEX in a fresh checkpoint."""
    from .wiring import build_system

    log = build_system(instance_settings(data_dir)).audit
    log.checkpoint(datetime.now(timezone.utc))
    typer.echo(log.proof_text(index), nl=False)


@audit.command("record")
def record(index: int = typer.Argument(..., min=0, max=MAX_INDEX),
           data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Print the exact bytes of record INDEX (an entry or an access record), the
    leaf that `vg audit proof INDEX` proves and `check-proof` takes."""
    from audit import NoSuchEntry

    from .wiring import build_system

    found = build_system(instance_settings(data_dir)).audit.record_at(index)
    if found is None:
        raise NoSuchEntry(index)
    sys.stdout.buffer.write(found.canonical_bytes())
    sys.stdout.flush()


@audit.command("check-proof")
def check_proof(proof_file: Path = typer.Argument(..., help="a .tlog-proof file"),
                entry_file: Path = typer.Argument(..., help="the entry's exact bytes"),
                vkey: str = typer.Option(..., help="the log's verifier key")) -> None:
    """Check offline, without the log, that an entry is in a signed checkpoint."""
    from audit import NoteError, Verifier
    from audit.note import verify_proof

    try:
        verifier = Verifier.parse(vkey)
        found = verify_proof(_read_text(proof_file, "proof"),
                             _read_bytes(entry_file), verifier)
    except NoteError as exc:
        fail(str(exc))
    typer.echo(json.dumps({"ok": True, "origin": found.origin, "size": found.size}))


@audit.command("check-inzage")
def check_inzage(view_file: Path = typer.Argument(
                     ..., help="the JSON answer of GET /api/v1/pod/inzage"),
                 vkey: str = typer.Option(..., help="the log's verifier key")) -> None:
    """Check offline that every entry of a holder's access view is in the signed
    checkpoint it came with (and that the checkpoint is the log's), and that what the
    view shows of each entry is what the log holds."""
    import binascii

    from audit import NoteError

    from .inzage_check import ViewRejected, check_view, read_json

    try:
        view = read_json(_read_text(view_file, "access view"))
        checked = check_view(view, vkey)
    except NoteError as exc:
        fail(f"checkpoint: {exc}")
    except ViewRejected as exc:
        fail(str(exc))
    except (ValueError, KeyError, TypeError, binascii.Error):
        fail(f"{view_file} is not an access view (checkpoint, entries with index, "
              "entry and proof)")
    typer.echo(json.dumps(checked.to_json()))


@audit.command("export")
def export(data_dir: Optional[Path] = typer.Option(None),
           organisation: Optional[str] = typer.Option(
               None, help="an organisation code of the reference data"),
           requester: Optional[str] = typer.Option(
               None, help="apikey:<number>, a holder's pseudonym or system:<name>"),
           purpose: Optional[str] = typer.Option(None),
           subject: Optional[str] = typer.Option(
               None, help="a pseudonym of 32 hexadecimal digits"),
           outcome: Optional[str] = typer.Option(None, help="disclosed or refused"),
           since: Optional[str] = typer.Option(
               None, help="YYYY-MM-DD (from its start, UTC) or a date-time with "
                          "its offset"),
           until: Optional[str] = typer.Option(
               None, help="YYYY-MM-DD (through its end, UTC) or a date-time with "
                          "its offset"),
           export_format: str = typer.Option("json", "--format",
                                             help="json or csv"),
           limit: Optional[int] = typer.Option(
               None, min=1, max=MAX_INDEX,
               help="at most this many entries (default: every one)"),
           offset: int = typer.Option(0, min=0, max=MAX_INDEX),
           after: Optional[int] = typer.Option(
               None, min=0, max=MAX_INDEX, help="only entries after this index")
           ) -> None:
    """Print entries with their access records as JSON or CSV, filtered by the
    rules the DPO's API and pages apply; a filter that can not be applied is
    refused, never read as "no such access". Every matching entry is written,
    read a page at a time; with ``--limit``, when more match, the entries
    written are followed by one line on stderr naming the ``--after`` that reads
    on, and the exit status is 3: an export is never cut without saying so."""
    from audit import InvalidAuditQuery

    from .audit_filters import read
    from .wiring import build_system

    if export_format not in ("json", "csv"):
        fail("--format must be json or csv")
    system = build_system(instance_settings(data_dir))
    given = {"organisation": organisation, "requester": requester,
             "purpose": purpose, "subject": subject, "outcome": outcome,
             "since": since, "until": until}
    try:
        filters = read({k: v for k, v in given.items() if v is not None},
                       system.reference.organisations)
    except InvalidAuditQuery as exc:
        fail(f"--{exc}")
    pages = _export_pages(system.audit, filters, limit, offset, after)
    try:
        cut = _write_export(pages, export_format)
    except InvalidAuditQuery as exc:
        fail(f"--{exc}")
    if cut is not None:
        typer.echo(f"vg: more entries match; read on with --after {cut}", err=True)
        raise typer.Exit(3)


def _export_pages(log, filters: dict, limit: int | None, offset: int,
                  after: int | None):
    """The pages of an export, each a (records, cut) pair: ``cut`` is the cursor
    after the last page when ``limit`` ended the export before the entries did."""
    left = limit
    while left is None or left > 0:
        size = EXPORT_PAGE if left is None else min(EXPORT_PAGE, left)
        page = log.page(limit=size, offset=offset, after=after, **filters)
        offset, after = 0, page.after
        if left is not None:
            left -= len(page.records)
        if after is None:
            yield page.records, None
            return
        yield page.records, (after if left == 0 else None)


def _write_export(pages, export_format: str) -> int | None:
    """Write the pages as one JSON array or one CSV table, page by page; returns
    where a limited export was cut, if it was."""
    from audit import to_csv

    cut, first = None, True
    if export_format == "json":
        sys.stdout.write("[")
    for records, cut in pages:
        if export_format == "csv":
            sys.stdout.write(to_csv(records, header=first))
        else:
            for record in records:
                sys.stdout.write(("" if first else ", ") + json.dumps(
                    record.to_json(), ensure_ascii=False))
                first = False
        first = False
    if export_format == "json":
        sys.stdout.write("]\n")
    sys.stdout.flush()
    return cut


@audit.command("prune")
def prune(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Delete records older than the retention period (VG_AUDIT_RETENTION_DAYS);
    their hashes stay, so the log still verifies."""
    from .wiring import build_system

    system = build_system(instance_settings(data_dir))
    now = datetime.now(timezone.utc)
    before = now - timedelta(days=system.settings.audit_retention_days)
    typer.echo(json.dumps({"pruned": system.audit.prune(before, now)}))


def _read_text(path: Path, what: str) -> str:
    try:
        return _read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError:
        fail(f"{what} {path} is not UTF-8 text")


def _read_bytes(path: Path, what: str = "file") -> bytes:
    """A regular file of at most MAX_FILE bytes (``read_bytes``)."""
    data = read_bytes(path, what, MAX_FILE)
    if len(data) > MAX_FILE:
        fail(f"{what} {path} is larger than 1 MiB")
    return data


def main() -> None:
    # Everything the process writes (SQLite files, secrets, pods) is for this user
    # alone: the registry database holds personal data (GDPR art. 32).
    os.umask(0o077)
    sys.exit(run(sys.argv[1:]))


def run(args: list[str]) -> int:
    """The command's exit status; every failure is one line on stderr."""
    try:
        code = app(args, prog_name="vg", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("vg: aborted", err=True)
        return 1
    except typer.TyperException as exc:  # what the command line parser refused
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # `vg`, `vg keys`: help shown
            return 0
        where = f"{ctx.command_path}: " if ctx and ctx.command_path != "vg" else ""
        typer.echo(f"vg: {where}{_one_line(exc.format_message())}", err=True)
        return getattr(exc, "exit_code", 2)
    except SettingsInvalid as exc:
        typer.echo(f"vg: setting {exc}", err=True)
        return 2
    except Exception as exc:  # one line, never a stack trace, for operators
        status = getattr(exc, "status", None)
        text = f"{exc}" if status else f"unexpected {type(exc).__name__}: {exc}"
        typer.echo(f"vg: {_one_line(text)}", err=True)
        return 1
    return code if isinstance(code, int) else 0


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


tidy_help(app)
