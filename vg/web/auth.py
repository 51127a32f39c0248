"""Who is signed in to the web pages, and the CSRF check on every form.

A holder's cookie holds the sealed session the API also uses (``vgs_...``): the pod
is opened for one request and locked afterwards, exactly as for an API call. An
organisation's cookie holds a session token (``vgw_...``) that the registry maps to
the API key it was exchanged for; the key itself never reaches the browser again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, AsyncIterator

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from pod import SessionInvalid, UnlockedPod
from registry import NotAuthenticated, Requester
from schemas import holds_forbidden_characters

from ..api.deps import SESSION_PREFIX, NowDep, SystemDep
from ..head_requests import for_request
from . import cookies
from .refusals import FormError

ORG_PREFIX = "vgw_"
MAX_FIELDS = 200


class LoginRequired(Exception):
    """No valid session for this page: the visitor is sent to the sign-in page."""


class CsrfRejected(Exception):
    """A form without a valid CSRF token: refused, nothing changes."""


async def holder_pod(request: Request, system: SystemDep,
                     now: NowDep) -> AsyncIterator[UnlockedPod]:
    token = request.cookies.get(cookies.SESSION, "")
    if not token.startswith(SESSION_PREFIX):
        raise LoginRequired()
    try:
        session = system.sessions.opened(token[len(SESSION_PREFIX):], now)
    except SessionInvalid as exc:
        raise LoginRequired() from exc
    pod = system.pods.open_with_key(session.did, session.passkey, now,
                                    until=session.expires)
    request.state.web_role = "holder"
    try:
        yield pod
    finally:
        pod.lock()


def organisation(request: Request, system: SystemDep, now: NowDep) -> Requester:
    token = request.cookies.get(cookies.SESSION, "")
    if not token.startswith(ORG_PREFIX):
        raise LoginRequired()
    try:
        requester = system.registry.access.session(token, now)
    except NotAuthenticated as exc:
        raise LoginRequired() from exc
    request.state.web_role = requester.role
    return for_request(request, requester)


def session_role(request: Request, system, now: datetime) -> str | None:
    """The role of the visitor's session, for pages anyone may see."""
    token = request.cookies.get(cookies.SESSION, "")
    try:
        if token.startswith(SESSION_PREFIX):
            system.sessions.open(token[len(SESSION_PREFIX):], now)
            return "holder"
        if token.startswith(ORG_PREFIX):
            return system.registry.access.session(token, now).role
    except (SessionInvalid, NotAuthenticated):
        return None
    return None


async def checked_form(request: Request) -> FormData:
    """The posted form, after its CSRF token was checked, and every text in it (a
    file's name included) held to the rule the API applies to every text of a
    body (``schemas.holds_forbidden_characters``): a page passes its values to the
    registry and the pod without the API's request parsing."""
    form = await _parsed_form(request)
    token = form.get(cookies.CSRF_FIELD)
    if not isinstance(token, str) or not cookies.csrf_valid(
            request.app.state.web.csrf_secret, request, token):
        raise CsrfRejected()
    texts = [value if isinstance(value, str) else value.filename or ""
             for _, value in form.multi_items()]
    if any(holds_forbidden_characters(text) for text in texts):
        raise FormError("form.forbidden_characters")
    return CheckedForm(form.multi_items())


def checked_query(request: Request) -> None:
    """Every page's query values held to the same rule as a form's texts: a page
    may show a value again (a search field), where such a character would
    disguise what surrounds it. Refused as a FormError, a page in the visitor's
    language; the JSON routes for scripts check their query as the API does."""
    if any(holds_forbidden_characters(value)
           for _, value in request.query_params.multi_items()):
        raise FormError("form.forbidden_characters")


async def _parsed_form(request: Request) -> FormData:
    """The form as parsed; one the parser refuses (more fields or files than a
    page's form has, a broken multipart body) is a FormError that says which, so
    the visitor reads a reason, not a bare "something went wrong"."""
    try:
        return await request.form(max_files=1, max_fields=MAX_FIELDS)
    except HTTPException as exc:
        if exc.status_code != 400:
            raise
        if str(exc.detail).startswith("Too many fields"):
            raise FormError("form.too_many_fields", count=str(MAX_FIELDS)) from exc
        raise FormError("form.unreadable") from exc


class CheckedForm(FormData):
    """A posted form in which a field read as one value (``get``, ``[]``) and sent
    more than once is refused, never one of its values taken; a list of choices
    is read with ``getlist``."""

    def __getitem__(self, key: str):
        if len(self.getlist(key)) > 1:
            raise FormError("form.repeated")
        return super().__getitem__(key)


HolderPod = Annotated[UnlockedPod, Depends(holder_pod)]
Organisation = Annotated[Requester, Depends(organisation)]
Form = Annotated[FormData, Depends(checked_form)]
