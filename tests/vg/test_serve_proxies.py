"""Whose address the server counts a request from: the peer's, unless the operator
names the proxies whose ``X-Forwarded-For`` it trusts (``VG_TRUSTED_PROXIES``); the
sign-in limits per client address (pod/attempts.py) rest on it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn

from vg.cli import run, server_options
from vg.settings import Settings, SettingsInvalid, load_settings


async def _echo(scope, receive, send):
    """An application that answers the client address it was given."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["client"][0].encode()})


def _seen(settings: Settings, peer: str, forwarded: str) -> str:
    config = uvicorn.Config(_echo, **server_options(settings))
    config.load()

    async def ask() -> str:
        transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://127.0.0.1") as client:
            answer = await client.get("/", headers={"X-Forwarded-For": forwarded})
        return answer.text

    return asyncio.run(ask())


def test_a_forwarded_address_from_a_local_peer_is_not_taken_by_default(tmp_path):
    settings = Settings(data_dir=tmp_path)

    assert _seen(settings, "127.0.0.1", "10.0.0.7") == "127.0.0.1"


def test_a_forwarded_address_is_taken_only_from_a_trusted_proxy(tmp_path):
    settings = Settings(data_dir=tmp_path, trusted_proxies="127.0.0.1, 10.1.0.0/16")

    assert _seen(settings, "127.0.0.1", "192.0.2.5") == "192.0.2.5"
    assert _seen(settings, "10.1.2.3", "192.0.2.6") == "192.0.2.6"
    assert _seen(settings, "10.2.0.1", "192.0.2.7") == "10.2.0.1"


def test_serve_starts_the_server_with_those_options(tmp_path, monkeypatch):
    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.update(options))
    monkeypatch.setenv("VG_DATA_DIR", str(tmp_path))

    run(["serve"])

    assert started["proxy_headers"] is False


@pytest.mark.parametrize("value", ["*", "proxy.example", "127.0.0.1;10.0.0.1",
                                   "300.1.1.1"])
def test_a_trusted_proxy_that_is_no_address_or_network_is_refused(value):
    with pytest.raises(SettingsInvalid) as refused:
        load_settings(trusted_proxies=value)

    assert refused.value.setting == "VG_TRUSTED_PROXIES"
