"""Alert settings on the feed page: how often the pod fetches new assignments and
from which score it keeps them; stored in the pod, refused whole when wrong."""

from __future__ import annotations

import pytest

from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401


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
    ({"frequentie": "hourly", "drempel": "70"}, "De invoer is niet volledig of niet juist."),
    ({"frequentie": "daily", "drempel": "101"}, "De invoer is niet volledig of niet juist."),
    ({"frequentie": "daily", "drempel": "veel"},
     "Alleen opdrachten vanaf score (0-100) moet een heel getal zijn.")])
def test_wrong_settings_are_refused_in_dutch_and_change_nothing(app, fields, sentence):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/opdrachten/instellingen", data={"csrf": token, **fields})

    assert answer.status_code == 400
    assert sentence in answer.text
    page = holder.get("/mijn/opdrachten").text
    assert '<option value="daily" selected>' in page and 'value="50"' in page
