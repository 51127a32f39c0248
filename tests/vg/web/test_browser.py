"""Each role's main path from signing in to the result, in Debian's chromium at a
phone's and a desktop's width. On every page axe-core (from the npm build) must
find no WCAG 2.1 A/AA violation and the browser must report no content security
policy violation; a screenshot of every page is saved under build/screenshots/."""

from __future__ import annotations

import csv
import io
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser_ready fixture skips, or fails on CI
    expect = None

from tests.factories import reference

from tests.vg.web.places import AXE, PASSPHRASE, SCREENSHOTS

pytestmark = pytest.mark.browser
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def check(page, viewport: str, name: str) -> None:
    """axe-core on the page as it is now, then a full-page screenshot."""
    page.wait_for_load_state("networkidle")
    # Evaluated through the DevTools protocol, so the page's own CSP (no inline
    # scripts) stays as strict as it is for visitors.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async (tags) => await axe.run(document, "
                           "{runOnly: {type: 'tag', values: tags}})", WCAG)
    violations = [(v["id"], [n["target"] for n in v["nodes"]][:3])
                  for v in result["violations"]]
    assert violations == [], f"{name}: {violations}"
    assert page.csp_violations == [], f"{name}: {page.csp_violations}"
    # Nothing wider than the screen (WCAG 1.4.10 reflow): no sideways scrolling.
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    if overflow > 0:
        wider = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right
                         > document.documentElement.clientWidth)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))""")
        pytest.fail(f"{name}: {overflow} px wider than the screen, first: {wider}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{viewport}-{name}.png"), full_page=True)


def no_personal_data_in(url: str, *values: str) -> None:
    for value in values:
        assert value not in url


def test_a_civil_servant_grants_and_withdraws_consent_and_sees_who_looked(
        page, world, viewport):
    pod_id = world.holders[viewport]
    page.goto(world.base + "/")
    check(page, viewport, "home")
    page.get_by_role("link", name="Naar mijn pod").click()
    check(page, viewport, "holder-login")
    page.get_by_label("Pod-id of DID").fill(pod_id)
    page.get_by_label("Wachtzin", exact=True).fill(PASSPHRASE)
    page.get_by_role("button", name="Openen").click()
    page.wait_for_url("**/mijn")
    assert page.get_by_text(pod_id).is_visible()
    check(page, viewport, "holder-home")

    page.goto(world.base + "/mijn/werkcontext")
    search = page.get_by_role("combobox", name="Zoek een vaardigheid")
    search.fill("beleid")
    suggestions = page.get_by_role("listbox", name="Suggesties").first
    suggestions.get_by_role("option").first.wait_for()
    check(page, viewport, "holder-workcontext-picker")
    search.press("ArrowDown")
    chosen = suggestions.get_by_role("option").first.text_content()
    search.press("Enter")
    assert page.get_by_role("checkbox", name=chosen).is_checked()
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url("**/mijn/werkcontext")
    assert page.get_by_role("status").first.text_content().strip().startswith(
        "Je werkcontext is opgeslagen")
    assert page.get_by_role("checkbox", name=chosen).is_checked()
    page.get_by_label("Kies een video").set_input_files(files=[{
        "name": "intro.webm", "mimeType": "video/webm",
        "buffer": bytes(range(256)) * 64}])
    with page.expect_navigation():  # the script uploads, then reloads the page
        page.get_by_role("button", name="Video uploaden").click()
    assert page.locator("video.vg-video__player").count() == 1
    check(page, viewport, "holder-workcontext-video")

    page.goto(world.base + "/mijn/toestemmingen")
    check(page, viewport, "holder-consent")
    matrix = page.get_by_role("table")
    assert matrix.get_by_role("columnheader").count() == 3  # field + two grants
    page.get_by_label("Alle gemeenten").check()
    page.get_by_label("Salarisschaal").check()
    page.get_by_role("button", name="Toestemming geven").click()
    page.wait_for_url("**/mijn/toestemmingen")
    assert page.get_by_role("status").text_content().strip() == "Toestemming gegeven."
    assert page.get_by_role("table").get_by_role("columnheader").count() == 4
    page.get_by_role("button", name=re.compile("^Intrekken: alle gemeenten")).click()
    page.wait_for_url("**/mijn/toestemmingen")
    assert "Toestemming ingetrokken" in page.get_by_role("status").text_content()
    assert page.get_by_role("table").get_by_role("columnheader").count() == 3
    check(page, viewport, "holder-consent-withdrawn")
    with page.expect_download() as receipt:
        page.get_by_role("button", name=re.compile("^Bewijs van al mijn")).click()
    assert receipt.value.suggested_filename == "toestemmingen.jsonld"

    page.goto(world.base + "/mijn/inzage")
    rows = page.get_by_role("table").get_by_role("row")
    assert rows.count() >= 3  # a header and the two seeded views
    assert "Gemeente Utrecht" in rows.nth(1).text_content()
    check(page, viewport, "holder-access-log")

    page.goto(world.base + "/mijn/opdrachten")
    check(page, viewport, "holder-feed")
    title = page.locator("[data-swipe] h2").text_content()
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.get_by_role("status").text_content().strip() == "Bewaard: leuk."
    assert page.locator("[data-swipe] h2").text_content() != title

    page.goto(world.base + "/mijn/kennisdelen")
    page.get_by_label("Naam", exact=True).fill("Omgevingswet")
    page.get_by_label("Korte naam").fill(f"omgevingswet-{viewport}")
    page.get_by_role("button", name="Groep aanmaken").click()
    page.wait_for_url("**/mijn/kennisdelen")
    page.get_by_role("button", name="Leden tonen: Omgevingswet").first.click()
    assert page.get_by_role("heading", name="Leden van Omgevingswet die kennis delen"
                            ).is_visible()
    check(page, viewport, "holder-sharing")

    for path, name in (("/mijn/matches", "holder-matches"),
                       ("/mijn/gegevens", "holder-rights")):
        page.goto(world.base + path)
        check(page, viewport, name)
    no_personal_data_in(page.url, pod_id, PASSPHRASE)


def test_a_new_pod_is_created_and_erased_in_the_browser(page, world, viewport):
    page.goto(world.base + "/inloggen")
    page.get_by_label("Nieuwe wachtzin").fill("mijn eigen nieuwe wachtzin")
    page.get_by_label("Herhaal de wachtzin").fill("mijn eigen nieuwe wachtzin")
    page.get_by_role("button", name="Pod aanmaken").click()
    page.wait_for_url("**/mijn/welkom")
    check(page, viewport, "holder-welcome")

    page.goto(world.base + "/mijn/gegevens")
    with page.expect_download() as download:
        page.get_by_label("Wachtzin").first.fill("mijn eigen nieuwe wachtzin")
        page.get_by_role("button", name="Downloaden").click()
    assert download.value.suggested_filename == "pod-export.jsonld"
    page.locator("#wis-wachtzin").fill("mijn eigen nieuwe wachtzin")
    page.get_by_label("Bevestiging").fill("WISSEN")
    page.get_by_role("button", name="Definitief wissen").click()
    page.wait_for_url(world.base + "/")
    assert "Je pod is gewist" in page.get_by_role("status").text_content()
    page.goto(world.base + "/mijn")
    assert page.url.endswith("/inloggen")


def test_a_project_leader_creates_an_assignment_and_likes_a_candidate(
        page, world, viewport):
    page.goto(world.base + "/organisatie/inloggen")
    check(page, viewport, "organisation-login")
    page.get_by_label("Sleutel van je organisatie").fill(world.staff_key)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/organisatie")
    check(page, viewport, "staff-assignments")

    page.get_by_role("link", name="Nieuwe opdracht").first.click()
    page.get_by_label("Titel").fill(f"Wijkaanpak {viewport}")
    search = page.get_by_role("combobox", name="Zoek een vaardigheid").first
    skill_label = _label(world.skills[0])
    search.fill(skill_label[:12])
    option = page.get_by_role("listbox", name="Suggesties").first.get_by_role(
        "option", name=skill_label, exact=True)
    option.click()
    page.get_by_label("Zoekcirkel", exact=True).select_option("province")
    # The script redraws the map for the new circle: Utrecht's 26 municipalities.
    drawn = page.get_by_role("img", name=re.compile("^Kaart: 26 gemeenten"))
    expect(drawn).to_be_visible()
    assert page.locator("svg.vg-map path.vg-map__in").count() == 25
    check(page, viewport, "staff-new-assignment")
    page.get_by_role("button", name="Opdracht openen").click()
    page.wait_for_url(re.compile(r".*/organisatie/opdrachten/\d+$"))

    card = page.locator("[data-swipe]")
    assert card.get_by_text("Vaardigheden", exact=True).is_visible()
    assert card.get_by_text("Vereiste vaardigheden: 1 van 1").is_visible()
    assert card.get_by_text("E-mailadres").count() == 0  # not granted for matching
    video = card.get_by_label("Introductievideo")
    expect(video).to_be_visible()
    source = card.locator("video source").get_attribute("src")
    assert re.fullmatch(r"/organisatie/introductievideo/[a-z2-7]{52}", source)
    played = page.request.get(world.base + source, headers={"Range": "bytes=0-15"})
    assert played.status == 206 and played.body() == bytes(range(16))
    assert page.request.get(world.base + source.replace("/organisatie", "/api/v1")
                            .replace("introductievideo", "introductievideos")
                            ).status == 401  # the API wants the organisation's key
    check(page, viewport, "staff-candidate")
    with page.expect_navigation():
        page.keyboard.press("ArrowRight")
    assert page.get_by_role("status").first.text_content().strip() in (
        "Bewaard: leuk.", "Het is een match!")
    check(page, viewport, "staff-after-like")

    page.goto(world.base + "/organisatie/teams")
    check(page, viewport, "staff-teams")


def _label(uri: str) -> str:
    """The Dutch label the picker shows for a skill."""
    skill = reference().skills[uri]
    return skill.label_nl or skill.label_en


def test_a_dpo_filters_exports_and_verifies_the_log(page, world, viewport):
    page.goto(world.base + "/organisatie/inloggen")
    page.get_by_label("Sleutel van je organisatie").fill(world.dpo_key)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url("**/fg")
    check(page, viewport, "dpo-log")
    page.get_by_label("Doel").select_option("matching")
    page.get_by_role("button", name="Filteren").click()
    rows = page.get_by_role("table").get_by_role("row")
    assert rows.count() >= 3
    assert all("matchen" in rows.nth(i).text_content() for i in range(1, rows.count()))
    check(page, viewport, "dpo-log-filtered")
    with page.expect_download() as download:
        page.get_by_role("button", name="Exporteren als CSV").click()
    exported = list(csv.DictReader(io.StringIO(
        open(download.value.path(), encoding="utf-8").read())))
    assert exported and {row["purpose"] for row in exported} == {"matching"}

    page.goto(world.base + "/fg/statistieken")
    assert page.locator("svg.vg-chart rect").count() >= 1
    check(page, viewport, "dpo-statistics")
    page.goto(world.base + "/fg/signalen")
    check(page, viewport, "dpo-flags")
    page.goto(world.base + "/fg/verificatie")
    page.get_by_role("button", name="Log controleren").click()
    verdict = page.get_by_role("status")
    assert verdict.get_by_role("heading").text_content() == (
        "In orde: het log is niet gewijzigd")
    check(page, viewport, "dpo-verified")


def test_the_pages_switch_to_english_and_back(page, world, viewport):
    page.goto(world.base + "/inloggen")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/inloggen")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).text_content() == "My pod"
    check(page, viewport, "holder-login-en")
    page.get_by_role("button", name="Nederlands").click()
    assert page.locator("html").get_attribute("lang") == "nl"


def test_every_control_is_reached_by_the_keyboard_with_a_visible_focus(
        page, world, viewport):
    page.goto(world.base + "/inloggen")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Naar de inhoud"
    seen = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement, style = getComputedStyle(el);
            if (el === document.body) return null;
            return [el.id || el.name || el.textContent.trim(),
                    style.outlineStyle !== 'none' && style.outlineWidth !== '0px'];
        }""")
        if focused is None:  # past the last control of the page
            break
        seen.append(focused)
    names = [name for name, _ in seen]
    assert {"pod", "wachtzin", "nieuwe-wachtzin", "herhaling"} <= set(names)
    assert all(visible for _, visible in seen), seen
