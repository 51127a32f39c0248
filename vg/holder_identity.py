"""A holder acting as a requester (peer search, interest groups, their team's page).

They are authenticated by their session and audited like an organisation: the actor
is the registry's pseudonym for them, the organisation their employer as their own
Workcontext names it, but only while that organisation attests the employment
(``registry.employment``); otherwise ``freelance``, a member of no organisation,
shown nobody and given no organisation's key (registry/org_pseudonyms.py). The
employer is read in the pod and only its code crosses to the registry, as a request
parameter would.
"""

from __future__ import annotations

from starlette.requests import Request

from pod import UnlockedPod
from registry import Requester, pseudonym_for
from registry.peers import holder_requester

from .head_requests import for_request
from .wiring import System


def subject_of(system: System, pod: UnlockedPod) -> str:
    return pseudonym_for(system.pseudonym_secret, pod.did)


def as_requester(system: System, pod: UnlockedPod,
                 request: Request | None = None) -> Requester:
    """The holder as the gate sees them; ``request``, when given, makes a HEAD
    request's requester see headers only (head_requests.py)."""
    document = pod.workcontext() or {}
    tooi = document.get("worksFor")
    employer = next((code for code, org in system.reference.organisations.items()
                     if org.tooi_uri == tooi), None) if tooi else None
    subject = subject_of(system, pod)
    if employer and not system.registry.employment.confirms(employer, subject):
        employer = None
    requester = holder_requester(subject, employer)
    return for_request(request, requester) if request is not None else requester
