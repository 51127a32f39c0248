"""A holder who changes employer: a grant whose audience the registry refuses for
the new Workcontext (it names the former employer, or the new employer's policy
does not allow it) no longer discloses the former projection. The grant shows as
suspended, not live, with a notice that says why; a later Workcontext the registry
takes under the grant again (the holder moves back) brings it back."""

from __future__ import annotations

import json

from tests.vg.test_api import LD_JSON, NOW, UTRECHT, _assignment, _grant, _holder
from tests.vg.test_api import _key, _skills
from tests.vg.test_api import api  # noqa: F401  (a fixture used by name)

AMSTERDAM = "GM0363"
URL = "/api/v1/pod/werkcontext"


def _move(api, holder, employer):
    document = api.get(URL, headers=holder).json()
    document["worksFor"] = api.system.reference.organisation(employer).tooi_uri
    answer = api.put(URL, content=json.dumps(document),
                     headers={**holder, "Content-Type": LD_JSON})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _candidates(api, staff, assignment) -> list[dict]:
    answer = api.get(f"/api/v1/opdrachten/{assignment}/kandidaten", headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()["candidates"]


def _shown(api, holder, grant_id) -> dict:
    listed = api.get("/api/v1/pod/toestemmingen", headers=holder).json()
    return next(g for g in listed if g["id"] == grant_id)


def _notices(api, holder) -> list[dict]:
    return api.get("/api/v1/pod/toestemmingen/meldingen", headers=holder).json()


def test_a_grant_to_the_former_employer_stops_disclosing_and_says_why(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    grant = _grant(api, holder, ["skills", "employer"],
                   audience={"kind": "employer", "employer": UTRECHT})
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    assert len(_candidates(api, staff, assignment)) == 1

    saved = _move(api, holder, AMSTERDAM)

    assert saved["notPublished"] == [{"grant": grant, "code": "invalid-audience"}]
    assert _candidates(api, staff, assignment) == []
    shown = _shown(api, holder, grant)
    assert shown["live"] is False and shown["suspended"] is True
    [notice] = _notices(api, holder)
    assert notice["grant"] == grant and UTRECHT in notice["reason"]
    assert AMSTERDAM in notice["reason"]
    versions = api.get(f"{URL}/versies", headers=holder).json()
    assert not any(v["publicationPending"] for v in versions)  # nothing to retry


def test_saving_again_at_the_new_employer_adds_no_second_notice(api):
    _, holder = _holder(api, _skills(api))
    _grant(api, holder, ["skills"], audience={"kind": "employer", "employer": UTRECHT})
    _move(api, holder, AMSTERDAM)

    _move(api, holder, AMSTERDAM)

    assert len(_notices(api, holder)) == 1


def test_moving_back_brings_the_grant_back(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    grant = _grant(api, holder, ["skills"],
                   audience={"kind": "employer", "employer": UTRECHT})
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    _move(api, holder, AMSTERDAM)

    saved = _move(api, holder, UTRECHT)

    assert saved["notPublished"] == [] and saved["published"] == 1
    assert len(_candidates(api, staff, assignment)) == 1
    assert _shown(api, holder, grant)["live"] is True


def test_a_new_employers_policy_that_refuses_the_audience_suspends_the_grant(api):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    grant = _grant(api, holder, ["skills"], audience={"kind": "all_municipalities"})
    amsterdam = _key(api, AMSTERDAM)
    policy = api.put("/api/v1/organisatie/toestemmingsbeleid", headers=amsterdam,
                     json={"allowedKinds": ["employer"]})
    assert policy.status_code == 200, policy.text
    # Amsterdam attests its new employee: its policy binds only those it attests.
    assert api.post("/api/v1/medewerkers", json={"did": did},
                    headers=amsterdam).status_code == 201
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    assert len(_candidates(api, staff, assignment)) == 1

    _move(api, holder, AMSTERDAM)

    assert _candidates(api, staff, assignment) == []
    assert _shown(api, holder, grant)["suspended"] is True
    [notice] = _notices(api, holder)
    assert notice["grant"] == grant and notice["organisation"] == AMSTERDAM
