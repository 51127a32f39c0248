"""Alert settings on the feed page: how often the pod fetches new assignments and
from which score it keeps them; stored in the pod, refused whole when wrong."""

from __future__ import annotations

import pytest

from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401
from vg.web import cookies


def test_settings_are_saved_in_the_pod_and_shown_again(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/opdrachten/instellingen", data={
        "csrf": token, "frequentie": "weekly", "drempel": "70"})

    assert answer.status_code == 303
    page = holder.get("/mijn/opdrachten").text
    assert "Je meldingsinstellingen zijn opgeslagen in je pod." in page
    assert '<option value="weekly" selected>' in page
    assert 'name="drempel" inputmode="numeric" pattern="[0-9]{1,3}" value="70"' in page


@pytest.mark.parametrize("fields, sentence", [
    ({"frequentie": "hourly", "drempel": "70"},
     "Nieuwe opdrachten ophalen: kies een van de mogelijkheden."),
    ({"drempel": "70"}, "Nieuwe opdrachten ophalen: kies een van de mogelijkheden."),
    ({"frequentie": "daily", "drempel": "101"},
     "Alleen opdrachten vanaf score (0-100) moet een heel getal van 0 tot en met 100 "
     "zijn."),
    ({"frequentie": "daily", "drempel": "veel"},
     "Alleen opdrachten vanaf score (0-100) moet een heel getal zijn.")])
def test_wrong_settings_are_refused_in_dutch_and_change_nothing(app, fields, sentence):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/opdrachten/instellingen", data={"csrf": token, **fields})

    assert answer.status_code == 400
    assert sentence in answer.text
    page = holder.get("/mijn/opdrachten").text
    assert '<option value="daily" selected>' in page and 'value="50"' in page


def test_wrong_settings_are_refused_by_their_labels_in_english(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    holder.cookies.set(cookies.LANGUAGE, "en")

    answer = holder.post("/mijn/opdrachten/instellingen", data={
        "csrf": token, "frequentie": "daily", "drempel": "101"})

    assert answer.status_code == 400
    assert "minScore" not in answer.text and "Min score" not in answer.text
    assert "a whole number from 0 to 100" in answer.text
