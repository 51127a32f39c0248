"""A real server for the browser tests: the application under uvicorn on 127.0.0.1
(a free port), on a data directory seeded with a small world, and Debian's chromium
driven by Playwright.

Without chromium, Playwright or the npm build the browser tests skip with the
reason; with ``VG_REQUIRE_BROWSER=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pod.binaries import BinaryWriter
from pod.video_share import INTRO_VIDEO
from registry import AssignmentSpec
from schemas import WORKCONTEXT_CONTEXT_URL
from vg import holder_flows
from vg.settings import Settings
from vg.wiring import build_system

from tests.vg.web.places import (
    AXE,
    BUILD,
    CHROMIUM,
    CHROMIUM_FLAGS,
    PASSPHRASE,
    REPO,
    UTRECHT,
    VIEWPORTS,
)


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if not AXE.exists() or not (BUILD / "utrecht.css").exists():
        return "the npm build is missing (npm ci && npm run build)"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = _missing()
    if reason and os.environ.get("VG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but {reason}")
    if reason:
        pytest.skip(reason)


@dataclass
class World:
    base: str
    holders: dict[str, str]  # viewport name -> pod id
    staff_key: str
    dpo_key: str
    skills: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(data_dir: Path, reference_dir: Path) -> World:
    now = datetime.now(timezone.utc)
    system = build_system(Settings(data_dir=data_dir, reference_dir=reference_dir,
                                   kdf_level="interactive"))
    reference = system.reference
    skills = sorted(reference.skills)[:4]
    holders = {}
    for name in VIEWPORTS:
        pod = system.pods.create(PASSPHRASE, now)
        holders[name] = system.pods.pod_id(pod.did)
        document = {
            "@context": WORKCONTEXT_CONTEXT_URL, "id": pod.did, "type": "Person",
            "name": f"Sanne {name.title()}", "email": f"sanne.{name}@voorbeeld.nl",
            "worksFor": reference.organisation(UTRECHT).tooi_uri, "skills": skills,
            "functionLevel": {"type": "FunctionLevel", "levelSystem": "HR21",
                              "levelName": "adviseur III", "levelRank": 3},
            "availability": {"type": "Availability", "hoursPerWeek": 24}}
        document["introVideo"] = _intro_video(system, pod, now)
        holder_flows.save_workcontext(system, pod, document, now)
        holder_flows.grant_consent(
            system, pod, {"kind": "employer_and_neighbours", "employer": UTRECHT},
            ["matching"], ["name", "employer", "skills", "level", "hours_per_week",
                           "intro_video"],
            now + timedelta(days=90), now)
        holder_flows.grant_consent(
            system, pod, {"kind": "employer", "employer": UTRECHT}, ["contact"],
            ["name", "email"], now + timedelta(days=90), now)
        pod.lock()
    staff_key = system.registry.access.issue_key(UTRECHT, "staff", "browser test", now)
    dpo_key = system.registry.access.issue_key(UTRECHT, "dpo", "browser test", now)
    staff = system.registry.access.authenticate(staff_key)
    for title in ("Omgevingswet invoeren", "Participatie organiseren"):
        assignment = system.registry.create_assignment(
            staff, AssignmentSpec(title, "Een opdracht voor de test.",
                                  tuple(skills[:2]), hours_per_week=16), now, "open")
        # An organisation looks at the candidates: the holders' access logs fill.
        system.registry.candidates(staff, assignment.id, now, "0" * 31 + "1", 10)
    system.close()
    return World("", holders, staff_key, dpo_key, skills)


def _intro_video(system, pod, now) -> dict:
    """A short video in the pod, named as the holder's video page names it."""
    writer = BinaryWriter(pod, INTRO_VIDEO, "video/webm")
    writer.write(bytes(range(256)) * 64)
    writer.commit(now)
    return {"type": "VideoObject", "encodingFormat": "video/webm",
            "contentUrl": f"{system.settings.public_base()}api/v1/pods/"
                          f"{system.pods.pod_id(pod.did)}/bestanden/{INTRO_VIDEO}"}


@pytest.fixture(scope="session")
def world(browser_ready, tmp_path_factory) -> World:
    reference_dir = Path(os.environ.get("VG_REFERENCE_DIR")
                         or Settings().reference_dir)
    data_dir = tmp_path_factory.mktemp("web-world")
    seeded = _seed(data_dir, reference_dir)
    port = _free_port()
    env = dict(os.environ, VG_DATA_DIR=str(data_dir), VG_KDF_LEVEL="interactive",
               VG_REFERENCE_DIR=str(reference_dir))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "vg.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO, env=env)
    try:
        _wait_for(port, server)
        seeded.base = f"http://127.0.0.1:{port}"
        yield seeded
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped while starting")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("the server did not start within 60 s")


@pytest.fixture(scope="session")
def chromium(browser_ready):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture()
def page(chromium, world, viewport):
    context = chromium.new_context(viewport=VIEWPORTS[viewport], locale="nl-NL",
                                   accept_downloads=True)
    tab = context.new_page()
    tab.csp_violations = []
    tab.on("console", lambda message: tab.csp_violations.append(message.text)
           if "Content Security Policy" in message.text else None)
    yield tab
    context.close()
