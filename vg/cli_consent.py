"""``vg consent``: a holder's grants from the command line, withdrawal in one step.

The passphrase is read from a file (``--passphrase-file``, ``-`` for standard
input), from ``VG_PASSPHRASE``, or asked for without echo; it is never an argument,
so it does not end up in shell history or in the process list, where every local
user could read it while the key derivation runs.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from .cli_common import fail, instance_settings, read_bytes

consent = typer.Typer(no_args_is_help=True, help="A holder's consent grants.")
PASSPHRASE = typer.Option(None, "--passphrase-file", show_default=False,
                          metavar="FILE",
                          help="a file whose first line is the pod's passphrase, - "
                               "for standard input; else VG_PASSPHRASE, else asked "
                               "for without echo in a terminal")
MAX_PASSPHRASE_FILE = 4096  # a passphrase is at most 1024 characters
POD = typer.Argument(..., metavar="DID", help="the pod's did, or its 32-digit pod id")


def _open(did: str, passphrase_file: Optional[str], data_dir: Optional[Path]):
    """The instance first (a typo in ``--data-dir`` is said before anything is
    asked), then the passphrase: from the file, else the environment, else asked
    for in a terminal; without one there is nobody to ask."""
    from .holder_flows import unlock
    from .wiring import build_system

    settings = instance_settings(data_dir)
    if passphrase_file is not None:
        passphrase = _passphrase_from(passphrase_file)
    else:
        passphrase = os.environ.get("VG_PASSPHRASE")
    if passphrase is None:
        if not sys.stdin.isatty():
            fail("no passphrase: set VG_PASSPHRASE or run in a terminal")
        passphrase = typer.prompt("Passphrase", hide_input=True)
    system = build_system(settings)
    # Never re-wrapped here: the command may run with another cost level than the
    # server, and re-wrapping would end the holder's sessions on it; the server
    # raises the cost at the next sign-in.
    return system, unlock(system, did, passphrase, upgrade=False)


def _passphrase_from(name: str) -> str:
    """The first line of the file ``name`` (``-``: standard input), without its
    line break; a file that is not a small regular UTF-8 text with a non-empty
    first line is refused."""
    if name == "-":
        data = sys.stdin.buffer.readline(MAX_PASSPHRASE_FILE + 1)
    else:
        data = read_bytes(Path(name), "passphrase file", MAX_PASSPHRASE_FILE)
    if len(data) > MAX_PASSPHRASE_FILE:
        fail(f"the passphrase file is larger than {MAX_PASSPHRASE_FILE} bytes")
    try:
        line = data.decode("utf-8").split("\n", 1)[0].removesuffix("\r")
    except UnicodeDecodeError:
        fail("the passphrase file is not UTF-8 text")
    if not line:
        fail("the passphrase file's first line is empty")
    return line


@consent.command("list")
def list_grants(did: str = POD, data_dir: Optional[Path] = typer.Option(None),
                passphrase: Optional[str] = PASSPHRASE) -> None:
    """Every grant with its history, one JSON object per line."""
    from . import consent_flows
    from consent import format_time

    system, pod = _open(did, passphrase, data_dir)
    for item in consent_flows.history(system, pod, datetime.now(timezone.utc)):
        line = {
            "id": item.grant.id, "audience": item.grant.audience.to_json(),
            "purposes": list(item.grant.purposes), "fields": list(item.grant.fields),
            "live": item.live,
            "events": [[e.status, format_time(e.at), *([e.renewed_by]
                                                       if e.renewed_by else [])]
                       for e in item.events]}
        if item.grant.renews:
            line["renews"] = item.grant.renews
        renewed_by = next((e.renewed_by for e in item.events if e.renewed_by), None)
        if renewed_by:
            line["renewedBy"] = renewed_by
        typer.echo(json.dumps(line))


@consent.command("withdraw")
def withdraw(did: str = POD,
             grant_id: str = typer.Argument(..., metavar="GRANT",
                                           help="urn:uuid:... or the bare UUID"),
             data_dir: Optional[Path] = typer.Option(None),
             passphrase: Optional[str] = PASSPHRASE) -> None:
    """Withdraw one grant (its urn:uuid or the bare UUID) and every renewal of it:
    the registry deletes their data, then the pod records it. One line per grant
    withdrawn; ``pending`` for one the registry could not take now (the server
    delivers it later; until then the organisations still see the data), with a
    line on stderr and exit status 75 (EX_TEMPFAIL)."""
    from consent import grant_urn

    from .holder_flows import withdraw_consent

    system, pod = _open(did, passphrase, data_dir)
    grant_id = grant_urn(grant_id)
    pod.grant(grant_id)
    also = withdraw_consent(system, pod, grant_id, datetime.now(timezone.utc))
    pending = [g for g in (grant_id, *also) if pod.grant(g).withdrawn is None]
    for withdrawn_id in (grant_id, *also):
        typer.echo(f"{'pending' if withdrawn_id in pending else 'withdrawn'} "
                   f"{withdrawn_id}")
    if pending:
        typer.echo("withdrawal recorded, but the registry is unavailable: the data "
                   "stays visible until the server delivers it", err=True)
        raise typer.Exit(75)


@consent.command("receipt")
def receipt(did: str = POD, data_dir: Optional[Path] = typer.Option(None),
            passphrase: Optional[str] = PASSPHRASE) -> None:
    """Print a signed receipt holding the consent record of every event."""
    from . import consent_flows

    system, pod = _open(did, passphrase, data_dir)
    typer.echo(json.dumps(consent_flows.receipt(system, pod,
                                                datetime.now(timezone.utc))))
