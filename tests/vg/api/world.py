"""A small world for the working-life flows: an app on a temporary directory with an
in-memory inbox, holders with a Workcontext and grants, staff keys, assignments."""

from __future__ import annotations

from types import SimpleNamespace

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient

from registry import MemoryInbox, WorkLife, pseudonym_for
from schemas import WORKCONTEXT_CONTEXT_URL

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
UTRECHT, ZEIST, GRONINGEN = "GM0344", "GM0355", "GM0014"
PASSPHRASE = "een lange wachtzin 42"
LD_JSON = "application/ld+json"


@dataclass
class Person:
    did: str
    headers: dict
    subject: str


class World:
    def __init__(self, client: TestClient):
        self.client = client
        self.system = client.app.state.system
        self.clock = {"now": NOW}
        self.inbox = MemoryInbox()
        self.system.work = WorkLife(self.system.registry, self.inbox)
        self._organisation_of: dict[str, str] = {}

    def skills(self, n: int = 3) -> list[str]:
        return sorted(self.system.reference.skills)[:n]

    def holder(self, skills, employer=UTRECHT, name="Sanne de Boer",
               attested=True) -> Person:
        """A holder whose Workcontext names ``employer``; that employer attests the
        employment unless ``attested`` is false (a claim nobody confirmed)."""
        created = self.client.post("/api/v1/pods", json={"passphrase": PASSPHRASE})
        assert created.status_code == 201
        did, token = created.json()["did"], created.json()["session"]
        headers = {"Authorization": f"Bearer {token}"}
        document = {"@context": WORKCONTEXT_CONTEXT_URL, "id": did, "type": "Person",
                    "name": name, "email": "sanne@voorbeeld.nl",
                    "telephone": "+31 6 12345678", "skills": skills,
                    "functionLevel": {"type": "FunctionLevel", "levelSystem": "HR21",
                                      "levelName": "adviseur III", "levelRank": 3,
                                      "salaryScale": 10},
                    "availability": {"type": "Availability", "hoursPerWeek": 16}}
        if employer:
            document["worksFor"] = self.system.reference.organisation(employer).tooi_uri
        saved = self.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                                headers={**headers, "Content-Type": LD_JSON})
        assert saved.status_code == 200, saved.text
        subject = pseudonym_for(self.system.pseudonym_secret, did)
        if employer and attested:
            answer = self.client.post("/api/v1/medewerkers", json={"did": did},
                                      headers=self.staff(employer))
            assert answer.status_code == 201, answer.text
        return Person(did, headers, subject)

    def seen_by(self, person: Person, organisation: str = UTRECHT) -> str:
        """The name ``organisation`` knows ``person`` by
        (registry/org_pseudonyms.py)."""
        return self.system.org_pseudonyms.shown(organisation, person.subject)

    def login(self, person: Person) -> None:
        """A new session (sessions last 30 minutes; some tests move the clock)."""
        answer = self.client.post("/api/v1/sessies", json={"did": person.did,
                                                           "passphrase": PASSPHRASE})
        assert answer.status_code == 201, answer.text
        person.headers = {"Authorization": f"Bearer {answer.json()['session']}"}

    def grant(self, person: Person, fields, purposes=("matching",), audience=None):
        body = {"audience": audience or {"kind": "all_municipalities"},
                "purposes": list(purposes), "fields": list(fields),
                "validUntil": (NOW + timedelta(days=30)).isoformat()}
        response = self.client.post("/api/v1/pod/toestemmingen", json=body,
                                    headers=person.headers)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def withdraw(self, person: Person, grant_id: str) -> None:
        response = self.client.delete(
            f"/api/v1/pod/toestemmingen/{grant_id.split(':')[-1]}",
            headers=person.headers)
        assert response.status_code == 200, response.text

    def staff(self, org=UTRECHT, role="staff") -> dict:
        key = self.system.registry.access.issue_key(org, role, "test", NOW)
        self._organisation_of[f"Bearer {key}"] = org
        return {"Authorization": f"Bearer {key}"}

    def name_for(self, staff: dict, person: Person) -> str:
        """The name the organisation of the ``staff`` key knows ``person`` by (for
        headers that are no organisation's key, Utrecht's)."""
        return self.seen_by(person, self._organisation_of.get(
            staff.get("Authorization"), UTRECHT))

    def assignment(self, staff, skills, circle="national", **extra) -> int:
        body = {"title": "Omgevingswet invoeren", "requiredSkills": skills,
                "circle": circle, **extra}
        response = self.client.post("/api/v1/opdrachten", headers=staff, json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def like(self, staff, assignment: int, person: Person, decision="like"):
        return self.client.put(
            f"/api/v1/opdrachten/{assignment}/keuzes/{self.name_for(staff, person)}",
            json={"decision": decision}, headers=staff)

    def holder_likes(self, person: Person, assignment: int, decision="like"):
        return self.client.put(f"/api/v1/pod/opdrachtkeuzes/{assignment}",
                               json={"decision": decision}, headers=person.headers)

    def match(self, staff, assignment: int, person: Person) -> None:
        assert self.like(staff, assignment, person).status_code == 200
        answer = self.holder_likes(person, assignment)
        assert answer.status_code == 200 and answer.json()["match"] is True

    def audit(self, **filters) -> list:
        """Entries with the actor of their linked access record (the log keeps the
        two apart, as Logboek Dataverwerkingen requires)."""
        return [_with_actor(r) for r in self.system.audit.entries(limit=1000, **filters)]


def _with_actor(record):
    entry = record.entry
    values = {f: getattr(entry, f) for f in entry.__dataclass_fields__}
    return SimpleNamespace(**values, actor=record.access.actor if record.access else None)
