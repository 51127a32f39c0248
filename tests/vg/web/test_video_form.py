"""The intro video from the plain form, without a script: multipart streamed into
the pod's encryption, the CSRF field checked before any video byte is written."""

from __future__ import annotations

import pytest

from tests.factories import NOW
from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401
from vg.web import cookies

VIDEO = bytes(range(256)) * 8192  # 2 MiB
BOUNDARY = "vgformgrens7MA4YWxkTrZu0gW"


def multipart(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, dict]:
    body = b""
    for name, media_type, value in parts:
        body += f"--{BOUNDARY}\r\n".encode()
        if media_type:
            body += (f'Content-Disposition: form-data; name="{name}"; '
                     f'filename="ik.webm"\r\nContent-Type: {media_type}\r\n\r\n').encode()
        else:
            body += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        body += value + b"\r\n"
    body += f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def stored_files(app, holder) -> bytes:
    system = app.state.system
    pod = system.pods.open_with_key(*system.sessions.open(
        holder.cookies[cookies.SESSION][4:], NOW))
    try:
        directory = system.pods.directory(pod.did)
        video = pod.workcontext().get("introVideo")
    finally:
        pod.lock()
    return video, b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_the_plain_form_streams_the_video_encrypted_into_the_pod(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    body, headers = multipart(("csrf", None, token.encode()),
                              ("video", "video/webm", VIDEO))

    answer = holder.post("/mijn/video", content=body, headers=headers)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/mijn/werkcontext"
    assert holder.get("/mijn/video").content == VIDEO
    video, on_disk = stored_files(app, holder)
    assert video["encodingFormat"] == "video/webm"
    assert VIDEO[:4096] not in on_disk  # ciphertext at rest, no plaintext spool


@pytest.mark.parametrize("parts, status", [
    ((("video", "video/webm", VIDEO), ("csrf", None, b"TOKEN")), 403),
    ((("csrf", None, b"0" * 64), ("video", "video/webm", VIDEO)), 403),
    ((("csrf", None, b"TOKEN"), ("video", "text/html", VIDEO)), 400),
    ((("csrf", None, b"TOKEN"),), 400),
    ((("csrf", None, b"TOKEN"), ("notitie", None, b"x" * 1000),
      ("video", "video/webm", VIDEO)), 400),
    ((("csrf", None, b"TOKEN"), ("video", "video/mp4", b"")), 400),
    ((("csrf", None, b"TOKEN"), ("video", "video/webm", VIDEO),
      ("video2", "video/webm", b"second")), 400),
    ((("csrf", None, b"TOKEN"), ("notitie", None, b"x"),
      ("video", "video/webm", VIDEO)), 400),
])
def test_a_form_without_a_valid_token_first_or_a_video_stores_nothing(
        app, parts, status):  # noqa: F811
    holder, token = signed_in_holder(app)
    parts = tuple((n, t, token.encode() if v == b"TOKEN" else v) for n, t, v in parts)
    body, headers = multipart(*parts)

    answer = holder.post("/mijn/video", content=body, headers=headers)

    assert answer.status_code == status
    video, on_disk = stored_files(app, holder)
    assert video is None
    assert holder.get("/mijn/video").status_code == 404


def test_a_body_that_is_not_multipart_is_refused_in_dutch(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/video", data={"csrf": token})
    broken = holder.post("/mijn/video", content=b"--x\r\ngarbage",
                         headers={"Content-Type": "multipart/form-data; boundary=x"})

    assert answer.status_code == 400
    assert "Dit formulier kon niet worden gelezen." in answer.text
    assert broken.status_code == 400


def test_an_empty_video_from_the_page_script_is_refused_and_stores_nothing(
        app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.put("/mijn/video", content=b"",
                        headers={"Content-Type": "video/mp4", "X-CSRF-Token": token})

    assert answer.status_code == 400
    video, _ = stored_files(app, holder)
    assert video is None
    assert holder.get("/mijn/video").status_code == 404


def test_the_video_link_in_the_workcontext_comes_from_the_settings_not_the_host(
        app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.put("/mijn/video", content=VIDEO[:1024], headers={
        "Content-Type": "video/mp4", "X-CSRF-Token": token, "Host": "evil.example"})

    assert answer.status_code == 200, answer.text[:300]
    video, _ = stored_files(app, holder)
    assert video["contentUrl"].startswith(
        f"{app.state.system.settings.public_base()}api/v1/pods/")


@pytest.mark.parametrize("range_", ["bytes=99999-", "bytes=-0"])
def test_a_range_beyond_the_video_page_says_its_length(app, range_):  # noqa: F811
    holder, token = signed_in_holder(app)
    assert holder.put("/mijn/video", content=VIDEO[:5012], headers={
        "Content-Type": "video/mp4", "X-CSRF-Token": token}).status_code == 200

    answer = holder.get("/mijn/video", headers={"Range": range_})

    assert answer.status_code == 416
    assert answer.headers["content-range"] == "bytes */5012"


def test_a_range_of_the_video_under_an_if_range_of_another_video_sends_it_whole(
        app):  # noqa: F811
    holder, token = signed_in_holder(app)
    upload = {"Content-Type": "video/mp4", "X-CSRF-Token": token}
    assert holder.put("/mijn/video", content=VIDEO[:2048], headers=upload
                      ).status_code == 200
    old = holder.get("/mijn/video").headers["etag"]
    assert holder.put("/mijn/video", content=VIDEO[:4096], headers=upload
                      ).status_code == 200
    current = holder.get("/mijn/video").headers["etag"]

    stale = holder.get("/mijn/video", headers={"Range": "bytes=0-9", "If-Range": old})
    fresh = holder.get("/mijn/video", headers={"Range": "bytes=0-9",
                                               "If-Range": current})

    assert stale.status_code == 200 and stale.content == VIDEO[:4096]
    assert fresh.status_code == 206 and fresh.content == VIDEO[:10]


def test_a_new_video_keeps_what_the_workcontext_said_of_the_video_besides_its_link(
        app):  # noqa: F811
    holder, token = signed_in_holder(app)
    upload = {"Content-Type": "video/mp4", "X-CSRF-Token": token}

    assert holder.put("/mijn/video", content=VIDEO[:2048], headers=upload
                      ).status_code == 200
    first, _ = stored_files(app, holder)
    assert holder.put("/mijn/video", content=VIDEO[:1024], headers={
        **upload, "Content-Type": "video/webm"}).status_code == 200
    second, _ = stored_files(app, holder)

    assert first["type"] == second["type"] == "VideoObject"
    assert second["encodingFormat"] == "video/webm"
