"""The holder's rights over the whole pod: export (art. 15 and 20), import on this
server, passphrase change, and erasure (art. 17)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from pod import InvalidArchive
from pod.archive import MAX_ARCHIVE_BYTES, read_archive

from .. import holder_flows, pod_rights
from .bounded_json import BoundedJsonRoute
from .deps import HolderDep, NowDep, SystemDep, client_address
from .models import ImportedOut, PassphraseChange, PassphraseConfirm, SessionOut
from .render import json_response

router = APIRouter(tags=["houder"], route_class=BoundedJsonRoute)
IMPORT_PATH = "/api/v1/pods/import"


def body_limit(path: str) -> int | None:
    return MAX_ARCHIVE_BYTES + 4096 if path == IMPORT_PATH else None


@router.post("/pod/export")
def export_pod(body: PassphraseConfirm, pod: HolderDep, system: SystemDep,
               now: NowDep, request: Request) -> Response:
    """Everything in one signed JSON-LD archive; the passphrase seals the identity
    key inside it, so the archive alone does not let anyone act as the holder."""
    holder_flows.confirm_passphrase(system, pod.did, body.passphrase,
                                    client_address(request))
    archive = pod_rights.export_pod(system, pod, body.passphrase, now)
    response = json_response(archive, media_type="application/ld+json")
    response.headers["Content-Disposition"] = 'attachment; filename="pod-export.jsonld"'
    return response


@router.post("/pods/import", status_code=201, response_model=ImportedOut)
async def import_pod(request: Request, system: SystemDep, now: NowDep) -> ImportedOut:
    """A pod moves in: ``{"passphrase": ..., "archive": <export>}``. Its grants are
    published as after a save: ``notPublished`` lists each one the registry did not
    take, with the reason's code; the pod is there either way."""
    # The client's place is taken before the body is read: reading and parsing up
    # to 64 MiB costs memory and CPU many times that of a sign-in, and is done
    # off the event loop, which every other request shares.
    client = client_address(request)
    with system.creations.creating(client), system.pods.attempts.client_slot(client):
        body = await run_in_threadpool(read_archive, await request.body())
        if not isinstance(body, dict) or set(body) != {"passphrase", "archive"} or not (
                isinstance(body["passphrase"], str)):
            raise InvalidArchive(
                ['the body must be {"passphrase": ..., "archive": ...}'])
        imported = await run_in_threadpool(pod_rights.import_pod, system,
                                           body["archive"], body["passphrase"], now)
    session = SessionOut.issued(system, imported.pod.did, imported.pod.passkey, now)
    return ImportedOut(**session.model_dump(), published=imported.published,
                       notPublished=list(imported.not_published))


@router.put("/pod/wachtzin", response_model=SessionOut)
def change_passphrase(body: PassphraseChange, pod: HolderDep, system: SystemDep,
                      now: NowDep, request: Request) -> SessionOut:
    """Re-wraps the keys; the data is not re-encrypted. Other sessions end."""
    changed = holder_flows.change_passphrase(system, pod.did, body.current, body.new,
                                             client_address(request))
    return SessionOut.issued(system, changed.did, changed.passkey, now)


@router.delete("/pod")
def erase_pod(body: PassphraseConfirm, pod: HolderDep, system: SystemDep,
              now: NowDep, request: Request) -> Response:
    """Erasure: the registry purges every disclosure, then the pod's keys are
    destroyed and its files deleted. The access log keeps only the pseudonym. It can
    not be undone, so it asks for the passphrase, like export and passphrase change:
    a session alone (a laptop left open) does not erase a pod."""
    holder_flows.confirm_passphrase(system, pod.did, body.passphrase,
                                    client_address(request))
    erased = pod_rights.erase_pod(system, pod, now)
    return json_response({"erased": True, "disclosuresPurged": erased.disclosures})
