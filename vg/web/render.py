"""Server-rendered pages: Jinja2 templates, autoescaped, in the visitor's language.

Every page gets the translator ``t``, the language, the CSRF token for its forms,
the signed-in role (for the navigation) and the one notice a redirect left."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from . import cookies
from .i18n import language, translator
from .refusals import explain

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    """The templates' environment, made for the first page: a worker that serves
    only the API never holds Jinja2 (about 1.5 MB of its code)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "svg"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["nav_items"] = lambda role: NAV.get(role, ())
    env.globals["reason_text"] = reason_text
    return env


def lang_of(request: Request) -> str:
    return language(request.cookies.get(cookies.LANGUAGE))


def page(request: Request, template: str, status: int = 200,
         **context: Any) -> Response:
    lang = lang_of(request)
    secret = request.app.state.web.csrf_secret
    seed = cookies.csrf_seed(request)
    notice = request.cookies.get(cookies.NOTICE)
    body = _environment().get_template(template).render(
        request=request, lang=lang, t=translator(lang),
        csrf=cookies.csrf_token(secret, seed), csrf_field=cookies.CSRF_FIELD,
        role=getattr(request.state, "web_role", None),
        notice=notice if notice and notice.isascii() and len(notice) < 40 else None,
        fmt_date=lambda v: format_date(v, lang),
        fmt_size=lambda v: format_size(v, lang),
        explain=lambda exc, t: explain(exc, t, lang), **context)
    response = HTMLResponse(body, status_code=status)
    if request.cookies.get(cookies.CSRF) != seed:
        cookies.set_cookie(response, cookies.CSRF, seed, max_age=cookies.YEAR)
    if notice:
        cookies.clear_cookie(response, cookies.NOTICE)
    return response


def redirect(url: str, notice: str | None = None) -> Response:
    """After a POST, back to a page by GET (303), with the key of a notice to show."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        cookies.set_cookie(response, cookies.NOTICE, notice, max_age=60)
    return response


MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def format_size(size: int, lang: str) -> str:
    """A file's size in the page's language: ``25 bytes``, ``1,5 KiB`` (Dutch
    writes a decimal comma). A size that is not zero never reads as zero: KiB
    are rounded up to the tenth."""
    if size < 1024:
        return f"{size} bytes"
    tenths = -(-size * 10 // 1024)
    text = f"{tenths // 10}.{tenths % 10}"
    return (text.replace(".", ",") if lang == "nl" else text) + " KiB"


def format_date(value: Any, lang: str) -> str:
    """``1 juli 2027`` / ``1 July 2027``; times are shown in UTC with the hour. A
    day written ``JJJJ-MM-DD`` is a day, shown without a time."""
    if isinstance(value, str):
        try:
            value = (date.fromisoformat(value) if len(value) == 10 else
                     datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if not isinstance(value, date):
        return ""
    text = f"{value.day} {MONTHS[lang][value.month - 1]} {value.year}"
    if isinstance(value, datetime):
        text += f", {value:%H:%M} UTC"
    return text


NAV = {
    "holder": (("/mijn", "nav.home"), ("/mijn/werkcontext", "nav.workcontext"),
               ("/mijn/toestemmingen", "nav.consent"), ("/mijn/opdrachten", "nav.feed"),
               ("/mijn/matches", "nav.matches"), ("/mijn/kennisdelen", "nav.sharing"),
               ("/mijn/inzage", "nav.access"),
               ("/mijn/gegevens", "nav.rights")),
    "staff": (("/organisatie", "nav.assignments"),
              ("/organisatie/opdrachten/nieuw", "nav.new_assignment"),
              ("/organisatie/teams", "nav.teams")),
    "dpo": (("/fg", "nav.log"), ("/fg/statistieken", "nav.stats"),
            ("/fg/signalen", "nav.flags"), ("/fg/verificatie", "nav.verify")),
}
NAV["platform-dpo"] = NAV["dpo"]


def reason_text(t, reason: dict) -> str:
    """A ranking or alert reason in words; each code has a sentence in both
    catalogues, filled with the reason's own numbers."""
    matched = reason.get("matched")
    values = {key: reason.get(key, "") for key in
              ("of", "points", "distance", "available", "needed", "km", "days")}
    values["matched"] = len(matched) if isinstance(matched, list) else ""
    return t("reason." + str(reason.get("code", "")), **values)
