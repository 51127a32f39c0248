"""A saved Workcontext whose publication did not complete is marked in the pod, in
the commit that stores it: the holder sees it as pending, and the next time the
pod is open it is published again, so a crash between the pod's commit and the
registry never leaves the registry disclosing an older version unnoticed."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from registry import RegistryError
from tests.factories import disclosure_rows
from tests.vg.test_api import NOW, _grant, _holder, _skills
from tests.vg.test_api import api  # noqa: F401  (a fixture used by name)
from vg import holder_flows
from vg.app import create_app
from vg.settings import Settings

PASSPHRASE = "een lange wachtzin 42"


class Crash(BaseException):
    """The process dies here: nothing after this line runs, no handler sees it."""


class Unavailable(RegistryError):
    status = 503
    code = "registry-unavailable"


def _disclosed_names(api) -> list[str]:
    return [json.loads(row.projection).get("name")
            for row in disclosure_rows(api.system.registry.engine)]


def _renamed(api, headers, name: str) -> dict:
    document = api.get("/api/v1/pod/werkcontext", headers=headers).json()
    return {**document, "name": name}


def _pending(client, headers) -> list[int]:
    answer = client.get("/api/v1/pod/werkcontext/versies", headers=headers)
    assert answer.status_code == 200, answer.text
    return [v["version"] for v in answer.json() if v["publicationPending"]]


def _restarted(data_dir) -> TestClient:
    """The same data directory in a new process: nothing kept in memory."""
    app = create_app(Settings(data_dir=data_dir, kdf_level="interactive"),
                     clock=lambda: NOW)
    client = TestClient(app)
    client.system = app.state.system
    return client


def test_a_save_cut_short_before_publication_is_published_on_the_next_open(
        api, monkeypatch):
    did, holder = _holder(api, _skills(api))
    _grant(api, holder, ["skills", "name"])
    document = _renamed(api, holder, "Gijs Later")
    pod = holder_flows.unlock(api.system, did, PASSPHRASE, NOW)

    def crash(*_args, **_kwargs):
        raise Crash()

    monkeypatch.setattr(holder_flows, "publish_grants", crash)
    try:
        holder_flows.save_workcontext(api.system, pod, document, NOW)
    except Crash:
        pass
    monkeypatch.undo()
    assert _disclosed_names(api) == ["Sanne de Boer"]

    restarted = _restarted(api.system.settings.data_dir)
    assert _pending(restarted, holder) == [2]
    opened = restarted.post("/api/v1/sessies",
                            json={"did": did, "passphrase": PASSPHRASE})

    assert opened.status_code == 201, opened.text
    assert _disclosed_names(restarted) == ["Gijs Later"]
    assert _pending(restarted, holder) == []
    assert _pending(_restarted(api.system.settings.data_dir), holder) == []


def test_a_save_the_registry_did_not_take_shows_pending_until_it_is_published(
        api, monkeypatch):
    did, holder = _holder(api, _skills(api))
    _grant(api, holder, ["skills", "name"])

    def unavailable(*_args, **_kwargs):
        raise Unavailable("the registry is unavailable")

    monkeypatch.setattr(api.system.registry, "receive_disclosure", unavailable)
    saved = api.put("/api/v1/pod/werkcontext", headers=holder,
                    content=json.dumps(_renamed(api, holder, "Gijs Later")))
    assert saved.status_code == 200, saved.text
    assert saved.json()["notPublished"] != []
    assert _pending(api, holder) == [2]
    monkeypatch.undo()

    listed = api.get("/api/v1/pod/toestemmingen", headers=holder)

    assert listed.status_code == 200
    assert _disclosed_names(api) == ["Gijs Later"]
    assert _pending(api, holder) == []


def test_a_published_save_is_not_pending(api):
    did, holder = _holder(api, _skills(api))
    _grant(api, holder, ["skills", "name"])

    saved = api.put("/api/v1/pod/werkcontext", headers=holder,
                    content=json.dumps(_renamed(api, holder, "Gijs Later")))
    again = api.put("/api/v1/pod/werkcontext", headers=holder,
                    content=json.dumps(_renamed(api, holder, "Gijs Weer")))

    assert saved.status_code == again.status_code == 200
    assert _pending(api, holder) == []
    assert _disclosed_names(api) == ["Gijs Weer"]


def test_a_save_reads_each_grant_of_the_pod_once(api, monkeypatch):
    """Reading a grant from the pod's state verifies its signature; a save needs
    the grants twice (withdrawals to settle, then publication), from one read."""
    import pod.holder

    did, holder = _holder(api, _skills(api))
    _grant(api, holder, ["skills", "name"])
    _grant(api, holder, ["skills"])
    document = _renamed(api, holder, "Gijs Later")
    pod_ = holder_flows.unlock(api.system, did, PASSPHRASE, NOW)
    read: list[str] = []
    original = pod.holder.grant_from_json

    def counted(data, **kwargs):
        read.append(data["id"])
        return original(data, **kwargs)

    checked = holder_flows.checked_workcontext(api.system, pod_, document)
    monkeypatch.setattr(pod.holder, "grant_from_json", counted)
    saved = holder_flows.store_checked_workcontext(api.system, pod_, checked, NOW)

    assert saved.published == 2 and saved.not_published == ()
    assert len(read) == len(set(read)) == 2
    assert _disclosed_names(api).count("Gijs Later") == 1
