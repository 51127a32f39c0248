"""Session-wide fixtures: a guard that keeps every test off the network, and a
private PostgreSQL schema for the tests that run on PostgreSQL.

The guard (DESIGN.md invariant 6, "no network from data") replaces the socket
calls that open connections: loopback and unix sockets pass, anything else raises
before a packet is sent and is remembered, so a test can also assert that nothing
was even tried.

PostgreSQL runs only when ``VG_TEST_POSTGRES_URL`` is set. The session gets its own
schema (``search_path`` in the URL), so concurrent runs on one database never drop
each other's tables; tests drop and recreate their tables inside it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("VG_TEST_POSTGRES_URL")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "", None})


class NetworkGuard:
    """Allows loopback and unix sockets; refuses, and records, everything else."""

    def __init__(self) -> None:
        self.refused: list[Any] = []

    def allows(self, family: int, address: Any) -> bool:
        if family == getattr(socket, "AF_UNIX", object()):
            return True
        host = address[0] if isinstance(address, tuple) else address
        return host in LOOPBACK_HOSTS

    def check(self, family: int, address: Any) -> None:
        if not self.allows(family, address):
            self.refused.append(address)
            raise ConnectionRefusedError(f"tests may not reach {address!r}")

    def wrap_connect(self, original):
        guard = self

        def connect(sock: socket.socket, address: Any):
            guard.check(sock.family, address)
            return original(sock, address)

        connect.network_guard = guard  # type: ignore[attr-defined]
        return connect

    def wrap_getaddrinfo(self, original):
        guard = self

        def getaddrinfo(host, *args, **kwargs):
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            guard.check(socket.AF_INET, (host, None))
            return original(host, *args, **kwargs)

        getaddrinfo.network_guard = guard  # type: ignore[attr-defined]
        return getaddrinfo


@pytest.fixture(scope="session", autouse=True)
def network_guard() -> Iterator[NetworkGuard]:
    guard = NetworkGuard()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect",
                      guard.wrap_connect(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex",
                      guard.wrap_connect(socket.socket.connect_ex))
        patch.setattr(socket, "getaddrinfo", guard.wrap_getaddrinfo(socket.getaddrinfo))
        yield guard


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL whose connections use this session's own, empty schema."""
    if not POSTGRES_URL:
        pytest.skip("VG_TEST_POSTGRES_URL not set")
    schema = f"vg_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict(
        {"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
