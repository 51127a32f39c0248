"""``vg demo`` on a small population: what its last line promises is there."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from registry import pseudonym_for
from vg.demo import run_demo
from vg.settings import Settings
from vg.wiring import build_system

LAST_LINE = re.compile(r"pod id ([0-9a-f]{32}), passphrase (\S+);")


def test_the_holder_the_demo_names_has_live_grants_and_an_access_log(tmp_path):
    settings = Settings(data_dir=tmp_path / "demo", kdf_level="interactive")
    lines: list[str] = []

    result = run_demo(settings, holders=60, seed=7, out=lines.append)

    assert result["audit_ok"] and result["withdrawn_candidate_gone"]
    assert result["checkpoints_checked"] == 1
    pod_id, passphrase = LAST_LINE.search(lines[-1]).groups()
    system = build_system(settings)
    pod = system.pods.unlock(system.pods.did_for_id(pod_id), passphrase)
    now = datetime.now(timezone.utc)
    subject = pseudonym_for(system.pseudonym_secret, pod.did)
    # The organisation the last line names saw this holder: its project leaders
    # have an assignment to look at, its DPO an entry.
    organisation = re.search(r"vg keys issue (GM\d{4})", lines[-1]).group(1)
    assert system.audit.entries(subject=subject, organisation=organisation,
                                limit=1) != []
    assert pod.grants() and all(
        record.is_live(now + timedelta(days=7)) for record in pod.grants())



def test_the_demo_s_employers_confirm_most_of_their_employees(tmp_path):
    settings = Settings(data_dir=tmp_path / "demo", kdf_level="interactive")
    lines: list[str] = []

    run_demo(settings, holders=30, seed=3, out=lines.append)

    system = build_system(settings)
    confirmed = int(re.search(r"([\d,]+) employments confirmed", "\n".join(lines))
                    .group(1).replace(",", ""))
    with system.registry.engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM employment")).scalar()
    assert confirmed == stored and 20 <= stored < 30
