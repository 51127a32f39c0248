"""The holder's pages: overview, the Workcontext with the skill picker, consent,
who looked at my data, export and erasure. Each action calls the same flow as the
API route that does the same thing."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from consent import MAX_VALIDITY, ConsentError
from pod import PodError, UnlockFailed
from registry import RegistryError
from schemas import (
    FIELDS,
    MAX_SKILLS,
    PURPOSES,
    WORKCONTEXT_CONTEXT_URL,
    SchemaError,
)

from .. import holder_flows, pod_rights
from ..api.deps import NowDep, SystemDep, client_address
from ..api.render import json_response
from ..holder_flows import employer_code, retry_withdrawals
from . import cookies, skills
from .form_values import (
    MAX_DIGITS,
    action,
    choices,
    in_range,
    iso_date,
    iso_day,
    optional_text,
    whole_number,
)
from .refusals import FormError
from .auth import Form, HolderPod
from .render import lang_of, page, redirect

router = APIRouter(include_in_schema=False)
FIELDS_OF_WORK = ("politiek", "management", "beleid", "realisatie", "beheer",
                  "dienstverlening", "ondersteuning")
AUDIENCE_KINDS = ("employer", "employer_and_neighbours", "province",
                  "all_municipalities", "cross_sector")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INPUT_ERRORS = (SchemaError, ConsentError, PodError, RegistryError)
# Entries the page "who looked at my data" shows at a time, newest first.
ACCESS_PAGE = 200


@router.get("/mijn")
def overview(request: Request, pod: HolderPod, system: SystemDep,
             now: NowDep) -> Response:
    document = pod.workcontext()
    live = [r for r in pod.grants() if r.is_live(now)]
    return page(request, "holder_home.html", pod_id=system.pods.pod_id(pod.did),
                has_workcontext=document is not None, live_grants=len(live))


@router.get("/mijn/welkom")
def welcome(request: Request, pod: HolderPod, system: SystemDep) -> Response:
    """Once, after creating a pod: the id to sign in with next time."""
    return page(request, "holder_welcome.html", pod_id=system.pods.pod_id(pod.did),
                did=pod.did)


# -- the Workcontext ------------------------------------------------------------------

@router.get("/mijn/werkcontext")
def workcontext_page(request: Request, pod: HolderPod, system: SystemDep) -> Response:
    document = pod.workcontext() or {}
    return _workcontext_form(request, system, _values(system.reference, document))


@router.post("/mijn/werkcontext")
def save_workcontext(request: Request, form: Form, pod: HolderPod, system: SystemDep,
                     now: NowDep) -> Response:
    """One form, two buttons: *search* adds skill suggestions without saving (so the
    picker works without JavaScript); *save* validates, stores and re-publishes."""
    lang = lang_of(request)
    try:
        chosen = action(form.get("actie"), ("opslaan", "zoeken"), "opslaan")
        values = _form_values(form)
    except FormError as exc:
        # What was sent can not be shown back whole: the form shows what is saved.
        return _workcontext_form(request, system, _values(
            system.reference, pod.workcontext() or {}), status=400,
            error="form.invalid", detail=exc)
    if chosen == "zoeken":
        found = skills.search(system.reference, values["zoek"], lang)
        return _workcontext_form(request, system, values, results=found)
    before = system.registry.policies.suspended(pod.did)
    try:
        document = _document(system.reference, pod, values)
        holder_flows.save_workcontext(system, pod, document, now)
    except (INPUT_ERRORS + (ValueError,)) as exc:
        return _workcontext_form(request, system, values, status=400,
                                 error="form.invalid", detail=exc)
    if system.registry.policies.suspended(pod.did) - before:
        # A grant no longer fits the employer this version names: the consent
        # page shows which, and why.
        return redirect("/mijn/toestemmingen", "saved-suspended")
    return redirect("/mijn/werkcontext", "saved")


def _workcontext_form(request, system, values, status=200, results=(), error=None,
                      detail=None) -> Response:
    lang = lang_of(request)
    employers = sorted(((o.name, code) for code, o in system.reference.organisations
                        .items()), key=lambda pair: pair[0].casefold())
    return page(request, "holder_workcontext.html", status=status, values=values,
                chosen=skills.chosen(system.reference, values["skills"], lang),
                results=[r for r in results if r["uri"] not in values["skills"]],
                employers=employers, occupations=_occupations(
                    system.reference, values["occupation"], lang),
                fields_of_work=FIELDS_OF_WORK, error=error,
                detail=detail, has_video=values["video"])


def _occupations(reference, stored: str, lang: str) -> list[tuple[str, str]]:
    """(label, URI) of ESCO's public administration occupations in the page's
    language, by label, and the stored one if it is another ESCO occupation (so
    saving the page unchanged keeps it)."""
    shown = list(reference.public_admin)
    if stored and reference.has_occupation(stored) and stored not in {
            o.uri for o in shown}:
        shown.append(reference.occupation(stored))
    labelled = [(o.label_en if lang == "en" else o.label_nl, o.uri) for o in shown]
    return sorted(labelled, key=lambda pair: pair[0].casefold())


def _values(reference, document: dict) -> dict:
    level = document.get("functionLevel") or {}
    availability = document.get("availability") or {}
    period = availability.get("period") or {}
    return {"name": document.get("name", ""), "email": document.get("email", ""),
            "telephone": document.get("telephone", ""),
            "employer": employer_code(reference, document) or "",
            "field": document.get("fieldOfWork", ""),
            "occupation": document.get("hasOccupation", ""),
            "rank": str(level.get("levelRank", "")),
            "level_name": level.get("levelName", ""),
            "scale": str(level.get("salaryScale", "")),
            "hours": str(availability.get("hoursPerWeek", "")),
            "start": period.get("startDate", ""), "end": period.get("endDate", ""),
            "skills": list(document.get("skills") or []), "zoek": "",
            "video": bool(document.get("introVideo"))}


# Each form field: its name, the key of its label, and the most characters it takes
# (a number as many digits as any number a form takes; the Workcontext's own
# limits, such as the range of each number, are checked when it is saved).
WORKCONTEXT_FIELDS = {
    "name": ("naam", "workcontext.name", 200),
    "email": ("email", "workcontext.email", 254),  # RFC 5321 4.5.3.1.3, less <>
    "telephone": ("telefoon", "workcontext.telephone", 40),
    "employer": ("werkgever", "workcontext.employer", 40),
    "field": ("vakgebied", "workcontext.field", 40),
    "occupation": ("beroep", "workcontext.occupation", 200),
    "rank": ("niveau", "workcontext.rank", MAX_DIGITS),
    "level_name": ("niveaunaam", "workcontext.level_name", 120),
    "scale": ("schaal", "workcontext.scale", MAX_DIGITS),
    "hours": ("uren", "workcontext.hours", MAX_DIGITS),
    "start": ("van", "workcontext.from", 10),
    "end": ("tot", "workcontext.until", 10),
    "zoek": ("zoek", "skills.search", 100),
}


def _form_values(form) -> dict:
    """The form's values as sent; one too long is refused (FormError), never cut."""
    values = {key: optional_text(form.get(name), label, limit)
              for key, (name, label, limit) in WORKCONTEXT_FIELDS.items()}
    values["skills"] = skills.from_form(form, "vaardigheid", MAX_SKILLS)
    values["video"] = False
    return values


def _document(reference, pod, values: dict) -> dict:
    """The edited Workcontext: what the form does not cover (video, rating
    summary) is kept as it was."""
    document = dict(pod.workcontext() or {})
    document.update({"@context": WORKCONTEXT_CONTEXT_URL, "id": pod.did,
                     "type": "Person", "name": values["name"]})
    _set(document, "email", values["email"])
    _set(document, "telephone", values["telephone"])
    organisation = reference.organisations.get(values["employer"])
    if values["employer"] and organisation is None:
        raise FormError("form.unknown_employer")
    _set(document, "worksFor", organisation.tooi_uri if organisation else "")
    _set(document, "fieldOfWork", values["field"])
    if values["occupation"] and not reference.has_occupation(values["occupation"]):
        raise FormError("form.unknown_occupation")
    _set(document, "hasOccupation", values["occupation"])
    _set(document, "skills", skills.to_store(reference, values["skills"], MAX_SKILLS))
    _set(document, "functionLevel", _level(document.get("functionLevel"), values))
    _set(document, "availability",
         _availability(document.get("availability"), values))
    return document


def _level(stored, values: dict) -> dict | None:
    """The function level with the form's rank, name and scale; its system and code,
    which the form does not show, stay as stored (HR21 for a new level): an FGR
    rank saved back unchanged must not become an HR21 rank."""
    if not values["rank"]:
        if values["level_name"] or values["scale"]:  # they belong to a level
            raise FormError("form.level_needed")
        return None
    level = dict(stored) if isinstance(stored, dict) else {
        "type": "FunctionLevel", "levelSystem": "HR21"}
    level["levelName"] = values["level_name"] or f"niveau {values['rank']}"
    level["levelRank"] = whole_number(values["rank"], "workcontext.level")
    level.pop("salaryScale", None)
    if values["scale"]:
        level["salaryScale"] = whole_number(values["scale"], "workcontext.scale")
    return level


def _availability(stored, values: dict) -> dict | None:
    """The availability with the form's hours and period, over what is stored. A
    period needs its start; its end is optional, as the shapes say, so a period
    stored without an end is saved back as it is."""
    availability = dict(stored) if isinstance(stored, dict) else {}
    availability["type"] = "Availability"
    availability.pop("hoursPerWeek", None)
    if values["hours"]:
        availability["hoursPerWeek"] = whole_number(values["hours"], "workcontext.hours")
    period = availability.pop("period", None)
    if values["end"] and not values["start"]:
        raise FormError("form.period_start")
    if values["start"]:
        iso_date(values["start"], "workcontext.from")
        iso_date(values["end"], "workcontext.until")
        period = dict(period) if isinstance(period, dict) else {}
        period["startDate"] = values["start"]
        period.pop("endDate", None)
        if values["end"]:
            period["endDate"] = values["end"]
        availability["period"] = period
    return availability if len(availability) > 1 else None


def _set(document: dict, key: str, value) -> None:
    if value:
        document[key] = value
    else:
        document.pop(key, None)


# -- consent --------------------------------------------------------------------------

@router.get("/mijn/toestemmingen")
def consent_page(request: Request, pod: HolderPod, system: SystemDep,
                 now: NowDep) -> Response:
    retry_withdrawals(system, pod, now)
    return _consent_page(request, pod, system, now)


def _consent_page(request, pod, system, now, status=200, error=None,
                  detail=None) -> Response:
    lang = lang_of(request)
    suspended = system.registry.policies.suspended(pod.did)
    lifted = _lifted_suspensions(system, pod.did)
    employer = employer_code(system.reference, pod.workcontext())
    grants = [_grant_view(system.reference, r, now, r.grant.id in suspended, lang,
                          employer, lifted.get(r.grant.id, [])) for r in pod.grants()]
    live = [g for g in grants if g["live"]]
    return page(request, "holder_consent.html", status=status, live=live,
                still_shown=[g for g in grants if g["pending"] and g["in_period"]],
                waiting=[g for g in grants if not g["live"] and g["withdrawable"]
                         and not (g["pending"] and g["in_period"])],
                ended=[g for g in grants
                       if not g["live"] and not g["withdrawable"]],
                fields=[(f.key, _label(f, lang)) for f in FIELDS.values()],
                purposes=[(p.key, _label(p, lang)) for p in PURPOSES.values()],
                kinds=AUDIENCE_KINDS, employer=employer,
                has_workcontext=pod.workcontext() is not None,
                default_until=(now.date().replace(year=now.year + 1)).isoformat(),
                error=error, detail=detail)


def _lifted_suspensions(system, did: str) -> dict[str, list[tuple]]:
    """By grant id, (suspended, lifted) of each suspension a later policy of the
    employer, or the end of the employment, lifted, oldest first: the consent
    history shows them too
    (``consent_flows.history``)."""
    lifted: dict[str, list[tuple]] = {}
    for notice in system.registry.policies.notices(did):
        if notice.lifted is not None:
            lifted.setdefault(notice.grant_id, []).append(
                (notice.created, notice.lifted))
    return lifted


def _label(item, lang: str) -> str:
    return item.label_nl if lang == "nl" else item.label_en


def _grant_view(reference, record, now, suspended: bool, lang: str,
                employer: str | None = None, lifted: list[tuple] | None = None
                ) -> dict:
    grant = record.grant
    audience = grant.audience
    return {"uuid": grant.id.removeprefix("urn:uuid:"),
            "lifted": lifted or [],
            "audience": _audience_text(reference, grant.audience.to_json(), lang),
            "purposes": [_label(PURPOSES[p], lang) for p in grant.purposes
                         if p in PURPOSES],
            "fields": set(grant.fields), "until": grant.valid_until,
            "from": grant.valid_from, "withdrawn": record.withdrawn,
            "suspended": suspended, "live": record.is_live(now) and not suspended,
            # Suspended because the Workcontext names another employer (or none)
            # than the grant's audience, not by an employer's policy.
            "other_employer": suspended and audience.needs_employer
            and audience.employer != employer,
            "future": grant.valid_from > now, "pending": record.pending is not None,
            # A new grant the register has not confirmed yet (holder_flows).
            "publishing": record.publishing is not None,
            # In its period and not suspended: what the audience may see while a
            # withdrawal has not reached the registry.
            "in_period": grant.is_live(now) and not suspended,
            # Not withdrawn and not yet over: a grant that starts later, one
            # suspended by a policy or one whose withdrawal did not complete can
            # still be withdrawn, and the page offers it.
            "withdrawable": record.withdrawn is None and grant.valid_until > now,
            "renew_default": _renewal_default(grant, now).isoformat()}


def _renewal_default(grant, now: datetime) -> date:
    """The end the renewal form proposes: a year after the later of the grant's end
    and today (28 February after a 29th), but no later than a renewal may run: it
    keeps the start of a grant that starts later (``renew_consent``)."""
    later = max(grant.valid_until.date(), now.date())
    try:
        proposed = later.replace(year=later.year + 1)
    except ValueError:  # 29 February
        proposed = later.replace(year=later.year + 1, day=28)
    last = (max(grant.valid_from, now) + MAX_VALIDITY).date() - timedelta(days=1)
    return min(proposed, last)


AUDIENCE_TEXT = {
    "nl": {"employer": "{name}", "employer_and_neighbours": "{name} en buurgemeenten",
           "province": "provincie {name}", "all_municipalities": "alle gemeenten",
           "cross_sector": "de hele publieke sector", "organisation": "{name}",
           "organisations": "{name}", "corop": "regio {name}",
           "safety_region": "veiligheidsregio {name}", "sector": "sector {name}"},
    "en": {"employer": "{name}", "employer_and_neighbours": "{name} and neighbours",
           "province": "province of {name}", "all_municipalities": "all municipalities",
           "cross_sector": "the whole public sector", "organisation": "{name}",
           "organisations": "{name}", "corop": "region {name}",
           "safety_region": "safety region {name}", "sector": "sector {name}"},
}


def _audience_text(reference, audience: dict, lang: str) -> str:
    kind = audience.get("kind", "")
    ref = (audience.get("employer") or audience.get("province")
           or audience.get("region") or audience.get("sector"))
    listed = audience.get("organisations") or ([audience["organisation"]]
                                               if "organisation" in audience else [])
    names = [_org_name(reference, c) for c in listed] if listed else [
        _org_name(reference, ref) if ref else ""]
    template = AUDIENCE_TEXT[lang].get(kind, kind)
    return template.format(name=", ".join(n for n in names if n))


def _org_name(reference, code: str) -> str:
    organisation = reference.organisations.get(code)
    if organisation:
        return organisation.name
    for municipality in reference.municipalities.values():
        if municipality.province_code == code:
            return municipality.province_name
    return code


@router.post("/mijn/toestemmingen")
def grant(request: Request, form: Form, pod: HolderPod, system: SystemDep,
          now: NowDep) -> Response:
    """Granting is one form; the flow records the grant, publishes, then confirms."""
    try:
        audience = _audience(system.reference, pod, form.get("publiek"))
        purposes = choices(form, "doel", PURPOSES, "consent.purpose")
        fields = choices(form, "veld", FIELDS, "consent.fields")
        until = _end_of_day(form.get("tot"))
        if not purposes or not fields:
            raise FormError("consent.choose_one")
        holder_flows.grant_consent(system, pod, audience, purposes, fields, until, now)
    except (INPUT_ERRORS + (ValueError,)) as exc:
        return _consent_page(request, pod, system, now, status=400,
                             error="consent.refused", detail=exc)
    return redirect("/mijn/toestemmingen", "granted")


@router.post("/mijn/toestemmingen/intrekken")
def withdraw(request: Request, form: Form, pod: HolderPod, system: SystemDep,
             now: NowDep) -> Response:
    """Withdrawing is one button, as easy as granting (GDPR art. 7(3))."""
    grant_id = grant_of_form(form.get("toestemming"))
    pod.grant(grant_id)  # raises GrantNotFound for a grant of another pod
    holder_flows.withdraw_consent(system, pod, grant_id, now)
    if pod.grant(grant_id).withdrawn is None:  # the registry could not take it yet
        return redirect("/mijn/toestemmingen", "withdrawal-pending")
    return redirect("/mijn/toestemmingen", "withdrawn")


def grant_of_form(value) -> str:
    """The grant a form names by its UUID (as the pages write it)."""
    if not (isinstance(value, str) and UUID.fullmatch(value)):
        raise FormError("form.required", field="form.grant")
    return f"urn:uuid:{value}"


def _audience(reference, pod, kind) -> dict:
    employer = employer_code(reference, pod.workcontext())
    if kind in ("all_municipalities", "cross_sector"):
        return {"kind": kind}
    if kind not in AUDIENCE_KINDS or employer is None:
        raise FormError("consent.audience_choice")
    if kind == "province":
        return {"kind": "province", "province": reference.province_of(employer)}
    return {"kind": kind, "employer": employer}


# The days a holder picks on the pages are days in the Netherlands: a grant "valid
# through 30 June" ends when 30 June ends there (21:59:59 UTC in summer time).
DUTCH_TIME = ZoneInfo("Europe/Amsterdam")


def _end_of_day(text) -> datetime:
    day = iso_day(text)
    if day is None:
        raise FormError("consent.until_date")
    in_range(day, "consent.until")
    return datetime.combine(day, time(23, 59, 59), tzinfo=DUTCH_TIME).astimezone(
        timezone.utc)


# -- who looked at my data ------------------------------------------------------------

@router.get("/mijn/inzage")
def access_log(request: Request, pod: HolderPod, system: SystemDep,
               tot: int | None = Query(default=None, ge=0, le=2**31 - 1)) -> Response:
    """GDPR art. 15(1)(c): every disclosure about me, newest first, a page at a
    time: the newest ``ACCESS_PAGE``, or those before the ``tot``-th, with links
    to the older and newer pages, so none is left out without saying so."""
    lang = lang_of(request)
    total = pod_rights.own_access_count(system, pod.did)
    end = total if tot is None else min(tot, total)
    start = max(0, end - ACCESS_PAGE)
    rows = (pod_rights.own_access_log(system, pod.did, limit=end - start,
                                      offset=start) if end > start else [])
    for row in rows:
        row["organisationName"] = _org_name(system.reference, row["organisation"])
        row["purposeLabel"] = (_label(PURPOSES[row["purpose"]], lang)
                               if row["purpose"] in PURPOSES else row["purpose"])
        row["fieldLabels"] = [_label(FIELDS[f], lang) if f in FIELDS else f
                              for f in row["fields"]]
    return page(request, "holder_access.html", rows=list(reversed(rows)),
                total=total, first=start + 1, last=end,
                older=start if start > 0 else None,
                newer=min(total, end + ACCESS_PAGE) if end < total else None)


# -- export and erasure ---------------------------------------------------------------

@router.get("/mijn/gegevens")
def rights_page(request: Request, pod: HolderPod) -> Response:
    return page(request, "holder_rights.html", error=None)


@router.post("/mijn/gegevens/export")
def export(request: Request, form: Form, pod: HolderPod, system: SystemDep,
           now: NowDep) -> Response:
    """The passphrase seals the identity key inside the archive (as in the API)."""
    passphrase = _text(form.get("wachtzin"))
    if not _confirms(request, system, pod, passphrase):
        return page(request, "holder_rights.html", status=401,
                    error="rights.wrong_passphrase")
    archive = pod_rights.export_pod(system, pod, passphrase, now)
    response = json_response(archive, media_type="application/ld+json")
    response.headers["Content-Disposition"] = 'attachment; filename="pod-export.jsonld"'
    return response


@router.post("/mijn/gegevens/wissen")
def erase(request: Request, form: Form, pod: HolderPod, system: SystemDep,
          now: NowDep) -> Response:
    """Erasure asks for the passphrase and a typed confirmation: it can not be
    undone (GDPR art. 17)."""
    if form.get("bevestiging") not in ("WISSEN", "ERASE"):
        return page(request, "holder_rights.html", status=400, error="rights.confirm")
    if not _confirms(request, system, pod, _text(form.get("wachtzin"))):
        return page(request, "holder_rights.html", status=401,
                    error="rights.wrong_passphrase")
    pod_rights.erase_pod(system, pod, now)
    response = redirect("/", "erased")
    cookies.clear_cookie(response, cookies.SESSION)
    return response


def _text(value) -> str:
    """A passphrase as typed; one longer than any passphrase is refused (400),
    never cut to one that might open the pod."""
    if isinstance(value, str) and len(value) > 1024:
        raise FormError("form.too_long", field="login.passphrase", limit="1024")
    return value if isinstance(value, str) else ""


def _confirms(request, system, pod, passphrase: str) -> bool:
    """Export and erasure ask for the passphrase again, as the API does, under
    the sign-in limits: beyond them the page answers 429 (TooManyAttempts)."""
    try:
        holder_flows.confirm_passphrase(system, pod.did, passphrase,
                                        client_address(request))
    except UnlockFailed:
        return False
    return True
