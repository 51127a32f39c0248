"""``vg consent``: a holder's grants from the command line, withdrawal in one step.

The passphrase is read from ``VG_PASSPHRASE`` or asked for without echo; it is never
an argument, so it does not end up in shell history or the process list.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from .cli_common import fail, instance_settings

consent = typer.Typer(no_args_is_help=True, help="A holder's consent grants.")
PASSPHRASE = typer.Option(None, envvar="VG_PASSPHRASE", show_default=False,
                          help="the pod's passphrase (or set VG_PASSPHRASE); asked "
                               "for without echo in a terminal")
POD = typer.Argument(..., metavar="DID", help="the pod's did, or its 32-digit pod id")


def _open(did: str, passphrase: Optional[str], data_dir: Optional[Path]):
    """The instance first (a typo in ``--data-dir`` is said before anything is
    asked), then the passphrase: from the option or the environment, else asked
    for in a terminal; without one there is nobody to ask."""
    from .holder_flows import unlock
    from .wiring import build_system

    settings = instance_settings(data_dir)
    if passphrase is None:
        if not sys.stdin.isatty():
            fail("no passphrase: set VG_PASSPHRASE or run in a terminal")
        passphrase = typer.prompt("Passphrase", hide_input=True)
    system = build_system(settings)
    # Never re-wrapped here: the command may run with another cost level than the
    # server, and re-wrapping would end the holder's sessions on it; the server
    # raises the cost at the next sign-in.
    return system, unlock(system, did, passphrase, upgrade=False)


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
