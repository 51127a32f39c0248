"""The DPO's pages: the access log with filters and CSV export, counts per day and
purpose as charts, flags for unusual access, and the verification of the whole
log with its result in plain words.

A municipal DPO always sees their own organisation only; the platform DPO sees all
(as in the API). Every read of entries or flags is logged. Filters travel in the
form body, never in the address: a subject's pseudonym is personal data."""

from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from audit import to_csv
from schemas import FIELDS, PURPOSES

from ..api.deps import MAX_ID, NowDep, SystemDep
from ..audit_filters import MAX_LENGTH, FilterRefused, read
from ..org_names import dpo_names, flags_for_dpo, records_for_dpo
from ..oversight import log_read, verify_whole_log
from . import charts
from .auth import Form, Organisation
from .form_values import action, one_of, required_id
from .problem_texts import localised
from .refusals import FormError
from .i18n import translator
from .render import format_date, lang_of, page, redirect

router = APIRouter(include_in_schema=False)
DPO_ROLES = ("dpo", "platform-dpo")
PAGE = 200
# The CSV export reads the log in pages of the most rows one query returns, and
# holds at most EXPORT_MAX_ROWS rows (as the flags read at most that many): a
# larger filter is refused with its count, to be narrowed by period.
EXPORT_PAGE = 1000
EXPORT_MAX_ROWS = 100_000
FLAG_DAYS = 30


def _dpo(requester) -> bool:
    return requester.role in DPO_ROLES


@router.get("/fg")
def log_page(request: Request, requester: Organisation, system: SystemDep,
             now: NowDep) -> Response:
    if not _dpo(requester):
        return redirect("/organisatie")
    return _log(request, system, requester, now, {}, 0)


@router.post("/fg")
def filtered_log(request: Request, form: Form, requester: Organisation,
                 system: SystemDep, now: NowDep) -> Response:
    """A filter that can not be applied is refused with its reason, never dropped:
    the unfiltered log in its place would answer another question."""
    if not _dpo(requester):
        return redirect("/organisatie")
    try:
        chosen = action(form.get("actie"), ("filter", "csv"), "filter")
        filters = _filters(form, requester, system)
        offset = _offset(form.get("vanaf"))
    except FormError as exc:
        return _page(request, requester, [], _shown_filters(form), 0, False,
                     status=400, error="dpo.not_filtered", detail=exc)
    if chosen == "csv":
        return _export(request, system, requester, now, filters)
    return _log(request, system, requester, now, filters, offset)


def _export(request, system, requester, now, filters: dict) -> Response:
    """Every row the filter selects, as CSV, or a refusal that says how many it
    selects: never the first rows alone, which would read as the whole answer
    (an art. 15 request or an incident answered from a part of the log). The
    rows are counted first, logged as read, then streamed a page at a time, so
    memory stays at one page; the count pins the rows, so an entry appended
    meanwhile (this export's own reading included) is not in the file."""
    total = _count(system, requester, filters)
    if total > EXPORT_MAX_ROWS:
        return _page(request, requester, [], filters, 0, False, status=400,
                     error="dpo.not_exported", detail=FormError(
                         "dpo.export_too_large", count=f"{total:,}".replace(",", "."),
                         limit=f"{EXPORT_MAX_ROWS:,}".replace(",", ".")))
    log_read(system, requester, now, secrets.token_hex(16), "read-audit-log", total)
    return StreamingResponse(
        _csv_pages(system, requester, filters, total),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="auditlog.csv"'})


def _csv_pages(system, requester, filters: dict, total: int):
    yield to_csv([])
    for offset in range(0, total, EXPORT_PAGE):
        size = min(EXPORT_PAGE, total - offset)
        records = _records(system, requester, filters, size, offset)
        if not records:
            return
        yield to_csv(records, header=False)


def _count(system, requester, filters: dict) -> int:
    applied = dict(filters.get("applied", {}))
    if requester.role == "dpo":
        applied["organisation"] = requester.organisation
    return system.audit.count(**applied)


def _log(request, system, requester, now, filters: dict, offset: int) -> Response:
    """One page of the log; one row more is read to know whether another follows."""
    found = _records(system, requester, filters, PAGE + 1, offset)
    records, more = found[:PAGE], len(found) > PAGE
    log_read(system, requester, now, secrets.token_hex(16), "read-audit-log",
             len(records))
    lang = lang_of(request)
    rows = [dict(r.to_json(), purposeLabel=_purpose(r.entry.purpose, lang),
                 fieldLabels=[_field(f, lang) for f in r.entry.fields])
            for r in records]
    return _page(request, requester, rows, filters, offset, more)


def _page(request, requester, rows, filters, offset, more, status=200, error=None,
          detail=None) -> Response:
    lang = lang_of(request)
    return page(request, "dpo_log.html", status=status, rows=rows, filters=filters,
                purposes=[(k, _purpose(k, lang)) for k in PURPOSES],
                platform=requester.role == "platform-dpo", page_size=PAGE,
                offset=offset, previous=max(0, offset - PAGE) if offset else None,
                next=offset + PAGE if more else None, error=error, detail=detail)


def _records(system, requester, filters: dict, limit: int, offset: int):
    applied = dict(filters.get("applied", {}))
    if requester.role == "dpo":
        applied["organisation"] = requester.organisation
    return records_for_dpo(system, requester, system.audit.entries(
        limit=limit, offset=offset, **applied))


# Each filter: its form field and the key of its label, by its name in the rules
# (``vg.audit_filters``) and on the API.
FIELDS_OF = {"purpose": ("doel", "access.purpose"),
             "subject": ("betrokkene", "dpo.subject"),
             "requester": ("vrager", "dpo.requester"),
             "organisation": ("organisatie", "dpo.organisation"),
             "outcome": ("uitkomst", "access.outcome"),
             "since": ("van", "workcontext.from"),
             "until": ("tot", "workcontext.until")}
# The reason each rule gives, as the page words it.
REASONS = {"characters": "form.forbidden_characters", "length": "form.too_long",
           "choice": "form.choice", "pseudonym": "dpo.pseudonym_format",
           "name": "dpo.name_format",
           "requester": "dpo.requester_format",
           "requester_name": "dpo.requester_name_format",
           "organisation": "dpo.unknown_organisation", "day": "form.iso_date",
           "instant": "form.iso_date", "range": "form.date_range",
           "period": "dpo.period_order"}


def _shown_filters(form) -> dict:
    """The filters as typed, to show them back beside the refusal (a value too
    long to be one is shown up to its limit: it was not applied)."""
    def text(name: str, limit: int) -> str:
        value = form.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    return {key: text(name, MAX_LENGTH[key]) for key, (name, _) in FIELDS_OF.items()}


def _filters(form, requester, system) -> dict:
    """The filters by the rules the API applies (``vg.audit_filters``); a
    municipal DPO's log is their own organisation's, so naming another one is
    refused, as the API refuses it, and they name holders as their organisation
    knows them (vg/org_names.py). Shown back as the rules read them (a code in
    the spelling of the reference data, a pseudonym in lower case)."""
    values = {key: form.get(name) for key, (name, _) in FIELDS_OF.items()}
    names = dpo_names(system, requester)
    try:
        applied = read(values, system.reference.organisations, form=True,
                       names=names)
    except FilterRefused as exc:
        raise FormError(REASONS[exc.rule], field=FIELDS_OF[exc.parameter][1],
                        limit=str(MAX_LENGTH[exc.parameter])) from None
    if applied["organisation"] and requester.role == "dpo":
        one_of(applied["organisation"], (requester.organisation,),
               "dpo.organisation")
    shown = {key: value or "" for key, value in applied.items()}
    for key in ("since", "until"):
        shown[key] = values[key].strip() if isinstance(values[key], str) else ""
    for key in ("subject", "requester") if names else ():
        if applied[key]:  # the name as written, never the registry's pseudonym
            shown[key] = values[key].strip().lower()
    return dict(shown, applied=applied)


def _offset(value) -> int:
    """Where the page starts in the filtered log (0 for the first page)."""
    if value in (None, "", "0"):
        return 0
    return required_id(value, "dpo.position")


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
          now: NowDep, na: int | None = Query(default=None, ge=0, le=MAX_ID)
          ) -> Response:
    """The flags of the last ``FLAG_DAYS`` days; a period of more entries than one
    reading takes links to the flags of the rest (``na``: after that entry)."""
    if not _dpo(requester):
        return redirect("/organisatie")
    organisation = requester.organisation if requester.role == "dpo" else None
    found, rest = system.audit.flags(now - timedelta(days=FLAG_DAYS), now,
                                     system.audit_rules, organisation, na)
    log_read(system, requester, now, secrets.token_hex(16), "read-audit-flags",
             len(found))
    lang = lang_of(request)
    t = translator(lang)
    shown = [dict(f.to_json(), detail=_explanation(f, lang, t))
             for f in flags_for_dpo(system, requester, found)]
    return page(request, "dpo_flags.html", flags=shown, rest=rest, days=FLAG_DAYS)


def _explanation(flag, lang: str, t) -> str:
    """The flag's reason in the page's language, its dates as the page shows
    dates (the API keeps the English ``detail``)."""
    facts = dict(flag.facts)
    if not facts:
        return flag.detail
    for name in ("day", "localDay"):
        if name in facts:
            facts[name] = format_date(_instant(facts[name]), lang)
    if "at" in facts:
        facts["utc"] = f"{_instant(facts['at']):%H:%M}"
        facts["at"] = format_date(_instant(facts["at"]), lang)
    if "weekday" in facts:
        facts["weekday"] = t(f"weekday.{facts['weekday']}")
    if "why" in facts:
        facts["why"] = t(f"flag.why.{facts['why']}", **facts)
    if "purpose" in facts:
        facts["purpose"] = _purpose(facts["purpose"], lang)
    return t(f"flag.detail.{flag.kind}", **facts)


def _instant(text: str):
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.date() if len(text) == 10 else parsed


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
    report = verify_whole_log(system).to_json()
    if report["problem"]:  # audit/verify.py words it in English
        lang = lang_of(request)
        report["problem"] = localised(report["problem"], lang, translator(lang))
    return page(request, "dpo_verify.html", report=report)
