"""The DPO's pages: the access log with filters and CSV export, counts per day and
purpose as charts, flags for unusual access, and the verification of the whole
log with its result in plain words.

A municipal DPO always sees their own organisation only; the platform DPO sees all
(as in the API). Every read of entries or flags is logged. Filters travel in the
form body, never in the address: a subject's pseudonym is personal data."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone

from fastapi import APIRouter, Request
from starlette.responses import Response

from audit import to_csv
from schemas import FIELDS, PURPOSES

from ..api.deps import NowDep, SystemDep
from ..oversight import log_read, verify_whole_log
from . import charts
from .auth import Form, Organisation
from .render import lang_of, page, redirect

router = APIRouter(include_in_schema=False)
DPO_ROLES = ("dpo", "platform-dpo")
PAGE = 200
FLAG_DAYS = 30


def _dpo(requester) -> bool:
    return requester.role in DPO_ROLES


@router.get("/fg")
def log_page(request: Request, requester: Organisation, system: SystemDep,
             now: NowDep) -> Response:
    if not _dpo(requester):
        return redirect("/organisatie")
    return _log(request, system, requester, now, {})


@router.post("/fg")
def filtered_log(request: Request, form: Form, requester: Organisation,
                 system: SystemDep, now: NowDep) -> Response:
    if not _dpo(requester):
        return redirect("/organisatie")
    filters = _filters(form)
    if form.get("actie") == "csv":
        records = _records(system, requester, filters, 1000)
        log_read(system, requester, now, secrets.token_hex(16), "read-audit-log",
                 len(records))
        return Response(to_csv(records), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition":
                                 'attachment; filename="auditlog.csv"'})
    return _log(request, system, requester, now, filters)


def _log(request, system, requester, now, filters: dict) -> Response:
    records = _records(system, requester, filters, PAGE)
    log_read(system, requester, now, secrets.token_hex(16), "read-audit-log",
             len(records))
    lang = lang_of(request)
    rows = [dict(r.to_json(), purposeLabel=_purpose(r.entry.purpose, lang),
                 fieldLabels=[_field(f, lang) for f in r.entry.fields])
            for r in records]
    return page(request, "dpo_log.html", rows=rows, filters=filters,
                purposes=[(k, _purpose(k, lang)) for k in PURPOSES],
                platform=requester.role == "platform-dpo", page_size=PAGE)


def _records(system, requester, filters: dict, limit: int):
    organisation = (requester.organisation if requester.role == "dpo"
                    else filters.get("organisation") or None)
    return system.audit.entries(
        organisation=organisation, purpose=filters.get("purpose") or None,
        subject=filters.get("subject") or None,
        requester=filters.get("requester") or None,
        outcome=filters.get("outcome") or None, since=filters.get("since_at"),
        until=filters.get("until_at"), limit=limit, offset=0)


def _filters(form) -> dict:
    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    out = {"purpose": text("doel", 40), "outcome": text("uitkomst", 10),
           "subject": text("betrokkene", 64), "requester": text("vrager", 200),
           "organisation": text("organisatie", 40), "since": text("van", 10),
           "until": text("tot", 10)}
    if out["purpose"] not in PURPOSES:
        out["purpose"] = ""
    if out["outcome"] not in ("disclosed", "refused"):
        out["outcome"] = ""
    out["since_at"] = _day(out["since"], time.min)
    out["until_at"] = _day(out["until"], time.max)
    return out


def _day(text: str, at: time) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), at, tzinfo=timezone.utc)
    except ValueError:
        return None


def _purpose(key: str, lang: str) -> str:
    purpose = PURPOSES.get(key)
    return (purpose.label_nl if lang == "nl" else purpose.label_en) if purpose else key


def _field(key: str, lang: str) -> str:
    field = FIELDS.get(key)
    return (field.label_nl if lang == "nl" else field.label_en) if field else key


@router.get("/fg/statistieken")
def statistics(request: Request, requester: Organisation, system: SystemDep,
               now: NowDep) -> Response:
    """Counts only (no entry is shown): per day and per purpose, last 30 days."""
    if not _dpo(requester):
        return redirect("/organisatie")
    since = now - timedelta(days=FLAG_DAYS)
    organisation = requester.organisation if requester.role == "dpo" else None
    counts = system.audit.daily_counts(organisation=organisation, since=since,
                                       until=now)
    lang = lang_of(request)
    per_day, per_purpose = Counter(), Counter()
    for row in counts:
        per_day[row["day"]] += row["count"]
        per_purpose[_purpose(row["purpose"], lang)] += row["count"]
    days = sorted(per_day.items())
    purposes = sorted(per_purpose.items(), key=lambda kv: -kv[1])
    t_day = "Toegang per dag" if lang == "nl" else "Access per day"
    t_purpose = "Toegang per doel" if lang == "nl" else "Access per purpose"
    return page(request, "dpo_stats.html", days=days, purposes=purposes,
                day_chart=charts.bars(days, t_day),
                purpose_chart=charts.bars(purposes, t_purpose))


@router.get("/fg/signalen")
def flags(request: Request, requester: Organisation, system: SystemDep,
          now: NowDep) -> Response:
    if not _dpo(requester):
        return redirect("/organisatie")
    organisation = requester.organisation if requester.role == "dpo" else None
    found, truncated = system.audit.flags(now - timedelta(days=FLAG_DAYS), now,
                                          system.audit_rules, organisation)
    log_read(system, requester, now, secrets.token_hex(16), "read-audit-flags",
             len(found))
    return page(request, "dpo_flags.html", flags=[f.to_json() for f in found],
                truncated=truncated, days=FLAG_DAYS)


@router.get("/fg/verificatie")
def verification_page(request: Request, requester: Organisation) -> Response:
    if not _dpo(requester):
        return redirect("/organisatie")
    return page(request, "dpo_verify.html", report=None)


@router.post("/fg/verificatie")
def verify(request: Request, form: Form, requester: Organisation,
           system: SystemDep) -> Response:
    """Recompute the whole tree and compare it with every signed checkpoint."""
    if not _dpo(requester):
        return redirect("/organisatie")
    return page(request, "dpo_verify.html",
                report=verify_whole_log(system).to_json())
