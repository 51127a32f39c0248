"""The intro video page: its link is the server's public address, whatever a request
calls the host, and a range outside the video says how long the video is."""

from __future__ import annotations

import pytest

from tests.factories import NOW
from tests.vg.web.test_web_pages import signed_in_holder
from vg.app import create_app
from vg.settings import Settings
from vg.web import cookies

VIDEO = bytes(range(256)) * 20


@pytest.fixture()
def app(tmp_path):
    return create_app(Settings(data_dir=tmp_path, kdf_level="interactive",
                               public_url="https://werk.example.nl"),
                      clock=lambda: NOW)


def stored_video(app):
    holder, token = signed_in_holder(app)
    stored = holder.put("/mijn/video", content=VIDEO, headers={
        "Content-Type": "video/mp4", "X-CSRF-Token": token, "Host": "evil.example"})
    assert stored.status_code == 200
    return holder


def test_the_video_link_is_built_from_the_public_address_not_the_host_header(app):
    holder = stored_video(app)
    system = app.state.system

    pod = system.pods.open_with_key(*system.sessions.open(
        holder.cookies[cookies.SESSION][4:], NOW))
    try:
        link = pod.workcontext()["introVideo"]["contentUrl"]
        pod_id = system.pods.pod_id(pod.did)
    finally:
        pod.lock()

    assert link == (f"https://werk.example.nl/api/v1/pods/{pod_id}/"
                    "bestanden/introductievideo")


@pytest.mark.parametrize("wanted", ["bytes=99999-", "bytes=-0", "bytes=5120-5121"])
def test_a_range_outside_the_video_is_416_with_its_length(app, wanted):
    holder = stored_video(app)

    answer = holder.get("/mijn/video", headers={"Range": wanted})

    assert answer.status_code == 416
    assert answer.headers["Content-Range"] == f"bytes */{len(VIDEO)}"
