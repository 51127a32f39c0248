"""The audit engine on PostgreSQL replaces a pooled connection the server has closed
when it is checked out, without a round trip to the server for it.

These tests end the server side of the log's own pooled connections (found by an
application name of their own) with ``pg_terminate_backend``, as a restart of the
database does; other sessions on the shared server are never touched.
"""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from audit import AuditLog, make_engine
from tests.audit.conftest import POSTGRES_URL, SIGNER
from tests.audit.records import filled, request

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="VG_TEST_POSTGRES_URL not set"),
]


@pytest.fixture
def named_log(prefix):
    """A log whose connections carry an application name no other session has,
    and a function that ends every one of them on the server."""
    name = f"vg-audit-test-{uuid.uuid4().hex[:12]}"
    engine = make_engine(POSTGRES_URL, connect_args={"application_name": name})
    log = AuditLog(engine, prefix=prefix, signer=SIGNER)
    log.create_tables()
    admin = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")

    def terminate() -> int:
        with admin.connect() as conn:
            ended = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %(name)s", {"name": name}).scalar()
            deadline = time.monotonic() + 10
            while conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    "%(name)s", {"name": name}).scalar():
                assert time.monotonic() < deadline, "the backends did not end"
                time.sleep(0.02)
        time.sleep(0.05)  # the server's goodbye reaches our sockets
        return int(ended)

    yield log, terminate
    log.tables.metadata.drop_all(engine)
    engine.dispose()
    admin.dispose()


def test_an_append_after_the_server_ended_the_pooled_connection_succeeds(named_log):
    log, terminate = named_log
    filled(log, 2, 1)
    assert terminate() >= 1
    assert log.append(request(3, 1)) == [4, 5]
    assert log.verify().ok


def test_a_proof_after_the_server_ended_the_pooled_connection_succeeds(named_log,
                                                                        prefix):
    log, terminate = named_log
    filled(log, 3, 1)
    expected = log.inclusion(2, 6)
    fresh = AuditLog(log.engine, prefix=prefix)  # empty tile cache: reads the store
    assert terminate() >= 1
    assert fresh.inclusion(2, 6) == expected


def test_checking_out_a_live_connection_sends_nothing_to_the_server(named_log):
    log, _terminate = named_log
    filled(log, 1, 1)
    used: list[str] = []
    raw = log.engine.raw_connection()
    connection = raw.dbapi_connection
    for name in ("cursor", "execute"):
        real = getattr(connection, name)
        setattr(connection, name, lambda *a, _real=real, _name=name, **k: (
            used.append(_name), _real(*a, **k))[1])
    raw.close()  # back into the pool, with the counting in place
    with log.engine.connect() as conn:
        assert conn.connection.dbapi_connection is connection
    assert used == []
