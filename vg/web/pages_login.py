"""Signing in and out, and the language switch.

Holders unlock their pod with its id (or did) and passphrase, or create one; the
answer is the sealed session the API also hands out, kept in an HttpOnly cookie.
Project leaders and DPOs exchange their organisation's API key for a session whose
token only the browser holds (the server keeps its hash)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pod import PodNotFound, UnlockFailed, WeakPassphrase
from registry import NotAuthenticated

from ..api.deps import SESSION_PREFIX, NowDep, SystemDep, client_address
from ..holder_flows import unlock
from . import cookies
from .auth import Form, session_role
from .form_values import one_of
from .i18n import LANGUAGES
from .refusals import FormError
from .render import page, redirect

router = APIRouter(include_in_schema=False)
HOME = {"holder": "/mijn", "staff": "/organisatie", "dpo": "/fg", "platform-dpo": "/fg"}


@router.get("/")
def home(request: Request, system: SystemDep, now: NowDep) -> Response:
    role = session_role(request, system, now)
    if role:
        return redirect(HOME[role])
    return page(request, "home.html")


@router.get("/inloggen")
def holder_login_page(request: Request) -> Response:
    return page(request, "login_holder.html", error=None)


@router.post("/inloggen")
def holder_login(request: Request, form: Form, system: SystemDep,
                 now: NowDep) -> Response:
    """Unlock: the Argon2id derivation runs in the thread pool (a sync route)."""
    who = _text(form, "pod", "login.pod", 100).strip()
    passphrase = _text(form, "wachtzin", "login.passphrase", 1024)
    if not (who and passphrase):  # nothing to try: no unlock, no failed attempt
        return page(request, "login_holder.html", status=400,
                    error="login.incomplete")
    try:
        pod = unlock(system, who, passphrase, now, client=client_address(request))
    except (PodNotFound, UnlockFailed):
        return page(request, "login_holder.html", status=401, error="login.failed")
    return _holder_session(system, pod, now, "/mijn", "signed-in")


@router.post("/pod-aanmaken")
def create_pod(request: Request, form: Form, system: SystemDep,
               now: NowDep) -> Response:
    passphrase = _text(form, "wachtzin", "login.passphrase", 1024)
    if passphrase != _text(form, "herhaling", "login.repeat", 1024):
        return page(request, "login_holder.html", status=400, error="login.mismatch")
    client = client_address(request)
    with system.creations.creating(client) as creation:
        try:
            with system.pods.attempts.client_slot(client):
                pod = system.pods.create(passphrase, now)
        except WeakPassphrase:
            creation.created = False
            return page(request, "login_holder.html", status=400,
                        error="login.weak")
    return _holder_session(system, pod, now, "/mijn/welkom", None)


def _holder_session(system, pod, now, to: str, notice: str | None) -> Response:
    """The pod's keys are wiped as soon as the sealed session holds the passkey."""
    try:
        token = SESSION_PREFIX + system.sessions.issue(pod.did, pod.passkey, now)
    finally:
        pod.lock()
    response = redirect(to, notice)
    cookies.set_cookie(response, cookies.SESSION, token,
                       max_age=int(system.sessions.lifetime.total_seconds()))
    return response


@router.get("/organisatie/inloggen")
def organisation_login_page(request: Request) -> Response:
    return page(request, "login_organisation.html", error=None)


@router.post("/organisatie/inloggen")
def organisation_login(request: Request, form: Form, system: SystemDep,
                       now: NowDep) -> Response:
    lifetime = system.sessions.lifetime
    try:
        key = _text(form, "sleutel", "login.key", 100).strip()
        if not key:
            return page(request, "login_organisation.html", status=400,
                        error="login.incomplete_key")
        token = system.registry.access.open_session(key, now, lifetime)
        role = system.registry.access.session(token, now).role
    except NotAuthenticated:
        return page(request, "login_organisation.html", status=401,
                    error="login.failed_key")
    response = redirect(HOME[role], "signed-in")
    cookies.set_cookie(response, cookies.SESSION, token,
                       max_age=int(lifetime.total_seconds()))
    return response


@router.post("/uitloggen")
def logout(request: Request, form: Form, system: SystemDep, now: NowDep) -> Response:
    """The session ends on the server: an organisation's is deleted, a holder's
    sealed session is recorded as signed out until it would have expired."""
    token = request.cookies.get(cookies.SESSION, "")
    if token.startswith(SESSION_PREFIX):
        system.sessions.sign_out(token[len(SESSION_PREFIX):], now)
    else:
        system.registry.access.close_session(token)
    response = redirect("/", "signed-out")
    cookies.clear_cookie(response, cookies.SESSION)
    return response


@router.post("/taal")
def choose_language(request: Request, form: Form) -> Response:
    lang = one_of(form.get("taal"), LANGUAGES, "form.language")
    back = form.get("terug")
    back = back if isinstance(back, str) and len(back) <= 200 else "/"
    local = back.startswith("/") and not back.startswith("//") and "\\" not in back
    response = redirect(back if local else "/")
    cookies.set_cookie(response, cookies.LANGUAGE, lang, max_age=cookies.YEAR)
    return response


def _text(form, name: str, label: str, limit: int) -> str:
    """A longer value than any pod id, key or passphrase is refused (400), never
    cut to one that might open something."""
    value = form.get(name)
    if isinstance(value, str) and len(value) > limit:
        raise FormError("form.too_long", field=label, limit=str(limit))
    return value if isinstance(value, str) else ""
