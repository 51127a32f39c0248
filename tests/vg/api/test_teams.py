"""Teams from matches, the team page, products, dissolution and ratings, through the
HTTP API."""

from __future__ import annotations

import base64
import json

import nacl.public
import nacl.signing
import pytest

from registry.errors_work import TeamDissolved
from registry.teams import ProductSpec
from tests.vg.api.world import NOW, PASSPHRASE, UTRECHT, ZEIST
from tests.factories import registry_snapshot

API = "/api/v1"
ASPECTS = {"collaboration": 5, "expertise": 4, "reliability": 5, "communication": 3}
COMMENT = "Scherp op de planning, fijne samenwerking"


@pytest.fixture()
def team(world):
    """Two matched holders (Utrecht and Zeist) in a team of Utrecht's assignment."""
    skills = world.skills()
    sanne = world.holder(skills, employer=UTRECHT, name="Sanne de Boer")
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    for person in (sanne, bram):
        world.grant(person, ["skills"])
        world.grant(person, ["name", "email", "skills"], purposes=["teamwork"])
    staff = world.staff(UTRECHT)
    assignment = world.assignment(staff, skills)
    for person in (sanne, bram):
        world.match(staff, assignment, person)
    formed = world.client.post(f"{API}/teams", headers=staff, json={
        "assignment": assignment,
        "members": [world.seen_by(sanne), world.seen_by(bram)]})
    assert formed.status_code == 201, formed.text
    return {"name": formed.json()["name"], "staff": staff, "sanne": sanne,
            "bram": bram, "assignment": assignment}


def _page(world, t):
    answer = world.client.get(f"{API}/teams/{t['name']}", headers=t["staff"])
    assert answer.status_code == 200, answer.text
    return answer.json()


def _dissolve(world, t):
    answer = world.client.post(f"{API}/teams/{t['name']}/ontbinding",
                               headers=t["staff"])
    assert answer.status_code == 200 and answer.json()["status"] == "dissolved"


def _rate(world, t, rater, rated, aspects=ASPECTS, comment=COMMENT):
    return world.client.post(f"{API}/pod/teams/{t['name']}/beoordelingen",
                             headers=rater.headers,
                             json={"subject": world.seen_by(rated), "aspects": aspects,
                                   "comment": comment})


def test_a_team_gets_a_unique_readable_name_from_its_assignment(world, team):
    assert team["name"].startswith("omgevingswet-invoeren-")
    second = world.client.post(f"{API}/teams", headers=team["staff"], json={
        "assignment": team["assignment"], "members": [world.seen_by(team["sanne"])]})
    assert second.status_code == 201
    assert second.json()["name"] != team["name"]
    taken = world.client.post(f"{API}/teams", headers=team["staff"], json={
        "assignment": team["assignment"], "members": [world.seen_by(team["sanne"])],
        "name": team["name"]})
    assert taken.status_code == 409 and taken.json()["code"] == "name-taken"


def test_team_page_shows_members_with_their_teamwork_fields_and_logs_it(world, team):
    page = _page(world, team)

    assert page["status"] == "active"
    assert page["assignment"]["id"] == team["assignment"]
    names = {m["workcontext"].get("name") for m in page["members"]}
    assert names == {"Sanne de Boer", "Bram Visser"}
    assert all(m["fields"] == ["email", "name", "skills"] for m in page["members"])
    entries = world.audit(purpose="teamwork")
    assert {e.subject for e in entries} == {team["sanne"].subject, team["bram"].subject}


def test_only_matched_people_can_form_a_team(world, team):
    stranger = world.holder(world.skills())
    world.grant(stranger, ["skills"])
    answer = world.client.post(f"{API}/teams", headers=team["staff"], json={
        "assignment": team["assignment"], "members": [world.seen_by(stranger)]})
    assert answer.status_code == 403 and answer.json()["code"] == "no-match"


def test_no_team_data_after_a_member_withdraws(world, team):
    sanne = team["sanne"]
    [teamwork] = [g["id"] for g in world.client.get(
        f"{API}/pod/toestemmingen", headers=sanne.headers).json()
        if g["purposes"] == ["teamwork"]]
    world.withdraw(sanne, teamwork)
    logged_before = len(world.audit(subject=sanne.subject, purpose="teamwork"))

    page = _page(world, team)

    [shown] = [m for m in page["members"] if m["subject"] == world.seen_by(sanne)]
    assert shown == {"subject": world.seen_by(sanne), "fields": [], "workcontext": {}}
    assert "Sanne" not in json.dumps(page)
    assert len(world.audit(subject=sanne.subject, purpose="teamwork")) == logged_before


def test_a_member_sees_fellow_members_as_consented_and_is_logged_as_actor(world, team):
    bram = team["bram"]
    answer = world.client.get(f"{API}/pod/teams/{team['name']}", headers=bram.headers)
    assert answer.status_code == 200, answer.text
    page = answer.json()

    others = [m for m in page["members"] if not m.get("you")]
    assert [m["workcontext"]["name"] for m in others] == ["Sanne de Boer"]
    [entry] = world.audit(organisation=ZEIST)
    assert (entry.actor, entry.subject) == (bram.subject, team["sanne"].subject)


def test_a_stranger_and_another_organisation_can_not_see_the_team(world, team):
    stranger = world.holder(world.skills())
    assert world.client.get(f"{API}/pod/teams/{team['name']}",
                            headers=stranger.headers).status_code == 404
    other = world.client.get(f"{API}/teams/{team['name']}", headers=world.staff(ZEIST))
    assert other.status_code == 404 and other.json()["code"] == "team-not-found"


def test_dissolved_team_keeps_products_loses_members_and_stays_findable(world, team):
    link = world.client.post(f"{API}/teams/{team['name']}/producten",
                             headers=team["staff"],
                             json={"title": "Plan", "url": "https://example.org/plan"})
    file = world.client.post(f"{API}/pod/teams/{team['name']}/producten",
                             headers=team["bram"].headers,
                             json={"title": "Notulen", "fileName": "notulen.txt",
                                   "mediaType": "text/plain",
                                   "content": base64.b64encode(b"besluit 1").decode()})
    assert link.status_code == 201 and file.status_code == 201, file.text

    _dissolve(world, team)

    page = _page(world, team)
    assert page["status"] == "dissolved" and page["members"] == []
    assert [p["title"] for p in page["products"]] == ["Plan", "Notulen"]
    download = world.client.get(
        f"{API}/teams/{team['name']}/producten/{file.json()['id']}/bestand",
        headers=team["staff"])
    assert download.content == b"besluit 1"
    found = world.client.get(f"{API}/teams?zoek=omgevingswet", headers=team["staff"])
    assert [t["name"] for t in found.json()] == [team["name"]]
    mine = world.client.get(f"{API}/pod/teams", headers=team["sanne"].headers).json()
    assert [(t["name"], t["status"]) for t in mine] == [(team["name"], "dissolved")]
    late = world.client.post(f"{API}/pod/teams/{team['name']}/producten",
                             headers=team["bram"].headers,
                             json={"title": "Te laat", "url": "https://example.org/x"})
    assert late.status_code == 409


@pytest.mark.parametrize("side", ["staff", "member"])
def test_no_one_adds_a_product_to_a_dissolved_team(world, team, side):
    _dissolve(world, team)
    path, headers = ((f"{API}/teams/{team['name']}/producten", team["staff"])
                     if side == "staff" else
                     (f"{API}/pod/teams/{team['name']}/producten",
                      team["bram"].headers))

    late = world.client.post(path, headers=headers,
                             json={"title": "Te laat", "url": "https://example.org/x"})

    assert late.status_code == 409 and late.json()["code"] == "team-dissolved"
    assert _page(world, team)["products"] == []


def test_the_registry_refuses_a_product_for_a_team_dissolved_after_it_was_read(
        world, team):
    teams = world.system.work.teams
    read_before = teams.get(UTRECHT, team["name"])
    _dissolve(world, team)

    with pytest.raises(TeamDissolved):
        teams.add_product(read_before, ProductSpec(title="Te laat",
                                                   url="https://example.org/x"), NOW)
    assert _page(world, team)["products"] == []


def test_a_product_is_a_link_or_a_file_and_bad_ones_are_refused(world, team):
    answer = world.client.post(f"{API}/teams/{team['name']}/producten",
                               headers=team["staff"],
                               json={"title": "x", "url": "ftp://example.org",
                                     "content": "!!"})
    assert answer.status_code == 400
    assert _page(world, team)["products"] == []


@pytest.mark.parametrize("file_name, media_type", [
    ("notulen.txt\n", "text/plain"),
    ("notulen.txt", "text/plain\n"),
    ("notulen.txt", "text/pla\u0129n"),
])
def test_a_file_name_or_media_type_that_can_not_be_a_header_is_refused(
        world, team, file_name, media_type):
    """Both go back out in the download's headers: a line break or a character
    outside Latin-1 there would break the answer, so they are refused on the way in."""
    answer = world.client.post(f"{API}/teams/{team['name']}/producten",
                               headers=team["staff"],
                               json={"title": "Notulen", "fileName": file_name,
                                     "mediaType": media_type,
                                     "content": base64.b64encode(b"x").decode()})
    assert answer.status_code == 400, answer.text
    assert _page(world, team)["products"] == []


@pytest.mark.parametrize("file_name, fallback, encoded", [
    ("Notulen financiën.pdf", "Notulen financien.pdf", "Notulen%20financi%C3%ABn.pdf"),
    ("Besluit één.docx", "Besluit een.docx", "Besluit%20%C3%A9%C3%A9n.docx"),
    ("Verslag (1).pdf", "Verslag (1).pdf", None),
    ('"zo" & \'zo\'; 100%.txt', "_zo_ & 'zo'; 100%.txt",
     "%22zo%22%20&%20%27zo%27%3B%20100%25.txt"),
    ("議事録.pdf", "___.pdf", "%E8%AD%B0%E4%BA%8B%E9%8C%B2.pdf"),
])
def test_a_file_name_in_any_script_is_kept_and_sent_back_as_given(
        world, team, file_name, fallback, encoded):
    """RFC 6266 section 4.3: an ASCII ``filename`` for old clients, and the name as
    given in ``filename*`` (RFC 8187) when it is not plain ASCII."""
    added = world.client.post(f"{API}/teams/{team['name']}/producten",
                              headers=team["staff"],
                              json={"title": "Notulen", "fileName": file_name,
                                    "mediaType": "application/pdf",
                                    "content": base64.b64encode(b"x").decode()})
    assert added.status_code == 201, added.text
    assert added.json()["fileName"] == file_name

    download = world.client.get(
        f"{API}/teams/{team['name']}/producten/{added.json()['id']}/bestand",
        headers=team["staff"])

    expected = f'attachment; filename="{fallback}"'
    if encoded:
        expected += f"; filename*=UTF-8''{encoded}"
    assert download.headers["content-disposition"] == expected


@pytest.mark.parametrize("file_name", [
    "", " ", ".", "..", "map/notulen.pdf", "map\\notulen.pdf", "a\u202eb.pdf",
    "a\u2066b.pdf", "a\u200bb.pdf", "a\x00b.pdf", "a\tb.pdf", "a\u2028b.pdf",
    "a\U000e0001.pdf", "x" * 201,
])
def test_a_file_name_with_a_control_bidi_or_path_character_is_refused(
        world, team, file_name):
    answer = world.client.post(f"{API}/teams/{team['name']}/producten",
                               headers=team["staff"],
                               json={"title": "Notulen", "fileName": file_name,
                                     "mediaType": "application/pdf",
                                     "content": base64.b64encode(b"x").decode()})

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert _page(world, team)["products"] == []


@pytest.mark.parametrize("name", ["team-omgevingswet\n", "groep\n"])
def test_a_name_with_a_trailing_line_break_is_refused(world, team, name):
    formed = world.client.post(f"{API}/teams", headers=team["staff"], json={
        "assignment": team["assignment"], "members": [world.seen_by(team["sanne"])],
        "name": name})
    group = world.client.post(f"{API}/groepen", headers=team["sanne"].headers,
                              json={"slug": name, "name": "Groep"})
    assert formed.status_code == 400, formed.text
    assert group.status_code == 400, group.text


def test_members_rate_each_other_only_after_dissolution(world, team):
    answer = _rate(world, team, team["sanne"], team["bram"])
    assert answer.status_code == 409 and answer.json()["code"] == "rating-not-open"
    assert world.inbox.messages == {}


def test_a_rating_is_sealed_to_the_rated_members_pod_only(world, team):
    _dissolve(world, team)

    answer = _rate(world, team, team["sanne"], team["bram"])

    assert answer.status_code == 202, answer.text
    [sealed] = world.inbox.messages[team["bram"].did]
    assert COMMENT.encode() not in sealed
    pod = world.system.pods.unlock(team["bram"].did, PASSPHRASE)
    private = nacl.signing.SigningKey(pod.key_material()[0]).to_curve25519_private_key()
    rating = json.loads(nacl.public.SealedBox(private).decrypt(sealed))
    assert rating["aspects"] == ASPECTS and rating["comment"] == COMMENT
    assert rating["team"] == team["name"]


def test_a_rating_s_origin_is_the_rater_as_the_team_s_organisation_knows_them(
        world, team):
    """The pod counts ratings per origin; the origin crosses to the pod (a
    server of its own at scale) as the name the rated member saw the rater by on
    the team page, never the registry's pseudonym that all organisations share."""
    _dissolve(world, team)

    answer = _rate(world, team, team["sanne"], team["bram"])

    assert answer.status_code == 202, answer.text
    assert world.inbox.origins[team["bram"].did] == [world.seen_by(team["sanne"])]
    assert team["sanne"].subject not in repr(world.inbox.origins)


def test_the_registry_keeps_no_readable_rating(world, team):
    _dissolve(world, team)
    _rate(world, team, team["sanne"], team["bram"])

    dump = repr(registry_snapshot(world.system.registry.engine))
    assert COMMENT not in dump and "reliability" not in dump
    page = json.dumps(_page(world, team))
    assert COMMENT not in page and "rating" not in page.lower()


def test_one_rating_per_member_and_none_for_oneself_or_strangers(world, team):
    _dissolve(world, team)
    assert _rate(world, team, team["sanne"], team["bram"]).status_code == 202

    twice = _rate(world, team, team["sanne"], team["bram"])
    own = _rate(world, team, team["sanne"], team["sanne"])
    stranger = world.holder(world.skills())
    outside = _rate(world, team, stranger, team["bram"])

    assert twice.json()["code"] == "already-rated"
    assert (own.status_code, own.json()["code"]) == (400, "invalid-input")
    assert own.json()["detail"] == "a member rates the others in the team, not themselves"
    assert outside.status_code == 404
    assert len(world.inbox.messages[team["bram"].did]) == 1


def test_a_rating_with_wrong_aspects_is_400_and_sends_nothing(world, team):
    _dissolve(world, team)
    answer = _rate(world, team, team["sanne"], team["bram"],
                   aspects={"collaboration": 9, "charm": 5})
    assert answer.status_code == 400
    assert len(answer.json()["errors"]) >= 2
    assert world.inbox.messages == {}


def test_a_rating_reaches_organisations_only_as_an_aggregate_the_holder_grants(world):
    skills = world.skills()
    sanne = world.holder(skills)
    _ratings_in_pod(world, sanne, [(5, 4, 4, 4), (5, 4, 4, 4), (5, 5, 4, 4)])
    document = world.client.get(f"{API}/pod/werkcontext", headers=sanne.headers).json()
    document["ratingSummary"] = {"type": "RatingSummary"}  # the pod fills it in
    saved = world.client.put(f"{API}/pod/werkcontext", content=json.dumps(document),
                             headers={**sanne.headers,
                                      "Content-Type": "application/ld+json"})
    assert saved.status_code == 200, saved.text
    world.grant(sanne, ["skills"])
    staff = world.staff(UTRECHT)
    url = f"{API}/opdrachten/{world.assignment(staff, skills)}/kandidaten"

    unpublished = world.client.get(url, headers=staff).json()["candidates"]
    world.grant(sanne, ["skills", "rating_summary"],
                audience={"kind": "organisation", "organisations": [UTRECHT]})
    published = world.client.get(url, headers=staff).json()["candidates"]

    assert "ratingSummary" not in unpublished[0]["workcontext"]
    assert published[0]["workcontext"]["ratingSummary"]["averageScore"] == "4.3"
    assert "rating_summary" in world.audit(organisation=UTRECHT)[-1].fields


def test_team_search_text_is_matched_literally(world, team):
    for text in ("%", "_", "omgevingswet%"):
        found = world.client.get(f"{API}/teams", params={"zoek": text},
                                 headers=team["staff"])
        assert found.status_code == 200 and found.json() == [], text


def _ratings_in_pod(world, person, scores) -> None:
    """Ratings delivered into the pod's own inbox, as the embedded server does."""
    from pod import inbox
    from registry import FileDropInbox
    from vg.pod_inbox import PodInboxDelivery

    delivery = PodInboxDelivery(world.system.pods,
                                FileDropInbox(world.system.settings.data_dir / "drop"))
    for n, values in enumerate(scores):
        aspects = dict(zip(("collaboration", "expertise", "reliability",
                            "communication"), values))
        body = json.dumps({"type": "Rating", "team": "t", "aspects": aspects})
        delivery.deliver(person.did, inbox.seal_to(person.did, body.encode()),
                         origin=f"rater {n}")


def test_ratings_sent_at_once_give_one_delivery_and_already_rated_for_the_rest(
        world, team):
    # A double click on the rating form's button sends the same rating twice.
    import threading

    from registry.errors_work import AlreadyRated

    _dissolve(world, team)
    ratings, teams = world.system.work.ratings, world.system.work.teams
    sanne, bram = team["sanne"].subject, team["bram"].subject
    row = teams.get(UTRECHT, team["name"])
    start, outcomes = threading.Barrier(6), []

    def rate(rater: str, rated: str) -> None:
        start.wait()
        try:
            ratings.rate(rater, row, rated, ASPECTS, COMMENT, NOW)
            outcomes.append((rater, "sent"))
        except Exception as exc:  # noqa: BLE001  (the outcome is asserted on)
            outcomes.append((rater, getattr(exc, "code", repr(exc))))

    threads = [threading.Thread(target=rate, args=pair)
               for pair in [(sanne, bram)] * 3 + [(bram, sanne)] * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    for rater in (sanne, bram):
        mine = sorted(code for who, code in outcomes if who == rater)
        assert mine == [AlreadyRated.code] * 2 + ["sent"], mine
    assert len(world.inbox.messages[team["bram"].did]) == 1
    assert len(world.inbox.messages[team["sanne"].did]) == 1


def _zeist_team(world, team, name):
    """A team of Zeist's own assignment with Bram, under ``name``."""
    staff = world.staff(ZEIST)
    assignment = world.assignment(staff, world.skills())
    world.match(staff, assignment, team["bram"])
    return staff, world.client.post(f"{API}/teams", headers=staff, json={
        "assignment": assignment, "members": [world.name_for(staff, team["bram"])],
        "name": name})


def test_two_organisations_may_give_their_teams_the_same_name(world, team):
    zeist, formed = _zeist_team(world, team, team["name"])

    assert formed.status_code == 201, formed.text
    assert formed.json()["name"] == team["name"]
    ours = world.client.get(f"{API}/teams/{team['name']}", headers=team["staff"])
    theirs = world.client.get(f"{API}/teams/{team['name']}", headers=zeist)
    assert ours.json()["organisation"] == UTRECHT
    assert theirs.json()["organisation"] == ZEIST
    assert ours.json()["assignment"]["id"] == team["assignment"]
    assert theirs.json()["assignment"]["id"] != team["assignment"]


def test_a_name_taken_refusal_is_about_the_own_organisation_only(world, team):
    _zeist_team(world, team, "de-zeister-ploeg")
    body = {"assignment": team["assignment"],
            "members": [world.name_for(team["staff"], team["sanne"])],
            "name": "de-zeister-ploeg"}

    first = world.client.post(f"{API}/teams", headers=team["staff"], json=body)
    again = world.client.post(f"{API}/teams", headers=team["staff"], json=body)

    assert first.status_code == 201, first.text
    assert again.status_code == 409 and again.json()["code"] == "name-taken"
    assert ZEIST not in again.text


def test_a_member_of_two_teams_of_one_name_names_the_organisation(world, team):
    _zeist_team(world, team, team["name"])
    bram = team["bram"]

    vague = world.client.get(f"{API}/pod/teams/{team['name']}", headers=bram.headers)
    utrecht = world.client.get(f"{API}/pod/teams/{team['name']}",
                               params={"organisatie": UTRECHT}, headers=bram.headers)
    zeist = world.client.get(f"{API}/pod/teams/{team['name']}",
                             params={"organisatie": ZEIST}, headers=bram.headers)
    sanne = world.client.get(f"{API}/pod/teams/{team['name']}",
                             headers=team["sanne"].headers)

    assert vague.status_code == 400 and vague.json()["code"] == "invalid-input"
    assert vague.headers["content-type"] == "application/problem+json"
    assert utrecht.json()["organisation"] == UTRECHT
    assert zeist.json()["organisation"] == ZEIST
    assert sanne.status_code == 200 and sanne.json()["organisation"] == UTRECHT


def test_head_on_a_team_page_shows_and_logs_nothing(world, team):
    logged = len(world.audit(purpose="teamwork"))

    member = world.client.head(f"{API}/pod/teams/{team['name']}",
                               headers=team["bram"].headers)
    staff = world.client.head(f"{API}/teams/{team['name']}", headers=team["staff"])

    for answer in (member, staff):
        assert answer.status_code == 200 and not answer.content
        assert "content-length" not in answer.headers
    assert len(world.audit(purpose="teamwork")) == logged


@pytest.mark.parametrize("title", [" ", "\u200b", "\u2060\ufeff"])
def test_a_product_with_an_invisible_title_is_refused(world, team, title):
    answer = world.client.post(f"{API}/teams/{team['name']}/producten",
                               headers=team["staff"],
                               json={"title": title, "url": "https://x.nl"})

    assert answer.status_code == 400, answer.text
    assert "title" in answer.text
    assert world.client.get(f"{API}/teams/{team['name']}",
                            headers=team["staff"]).json()["products"] == []


@pytest.mark.parametrize("text", ["omgevings\u202ewet", "a\x07b", "\u2066x\u2069",
                                  "a\x00b"])
def test_team_search_text_with_a_control_or_direction_character_is_refused(
        world, team, text):
    """The text is refused, not searched for: it would disguise the words around
    it wherever a search is shown again (a page, a log)."""
    found = world.client.get(f"{API}/teams", params={"zoek": text},
                             headers=team["staff"])

    assert found.status_code == 400
    assert found.headers["content-type"] == "application/problem+json"
    problem = found.json()
    assert problem["code"] == "invalid-input"
    assert "query.zoek" in problem["detail"]
    assert "control characters" in problem["detail"]
    assert text not in found.text
