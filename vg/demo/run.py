"""``vg demo``: build a fresh embedded instance and walk through the whole system.

Reference data (real) -> synthetic holders with pods and grants -> disclosures into the
registry -> assignments -> ranked candidates with only consented fields -> one
withdrawal, after which that candidate is gone -> the audit log's size and verification.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from pod.crypto import INTERACTIVE
from registry import Requester, pseudonym_for

from ..holder_flows import deliver, withdraw_consent
from ..settings import Settings
from ..wiring import System, build_system
from .assignments import plan_assignments
from .people import plan_people
from .pods import create_pods
from .show import describe
from .skills import skill_pools

MARKER = ".vg-demo"
CHUNK = 50
LASTING_DAYS = 7
UNCONFIRMED = 9  # a holder whose index ends in 9 has no confirmed employer yet
# The organisation whose staff and DPO the README and the last line walk through.
WALKTHROUGH = "GM0344"


def run_demo(settings: Settings, holders: int = 2000, seed: int = 2026,
             out: Callable[[str], None] = print) -> dict:
    started = time.perf_counter()
    _fresh_directory(settings.data_dir)
    now = datetime.now(timezone.utc)
    system = build_system(settings)
    ref = system.reference
    out(f"[1/6] reference data from {settings.reference_dir}: {len(ref.municipalities)} "
        f"municipalities, {len(ref.organisations)} organisations, "
        f"{len(ref.skills):,} ESCO skills")

    pools = skill_pools(ref)
    municipalities = sorted(ref.municipalities)
    plans = plan_people(holders, seed, municipalities,
                        {c: o.tooi_uri for c, o in ref.organisations.items()},
                        [o.uri for o in ref.public_admin_occupations()], pools,
                        {c: m.province_code for c, m in ref.municipalities.items()}, now)
    created, disclosures = _create_all(system, plans, now, out)
    out(f"[2/6] pods: {len(created):,} synthetic holders, each with an encrypted "
        f"Workcontext (Argon2id interactive, XChaCha20-Poly1305)")
    attested = _attest_employments(system, plans, created, now)
    out(f"[3/6] registry: {disclosures:,} signed disclosures verified and stored; "
        f"{attested:,} employments confirmed by their employers")

    assignments = _create_assignments(system, municipalities, pools, seed, now)
    out(f"[4/6] assignments: {len(assignments)} in {len(assignments)} municipalities")

    trace = secrets.token_hex(16)
    pages = [(r, system.registry.candidates(r, s.id, now, trace, 5)) for r, s in assignments]
    out("[5/6] matches (each candidate shown is logged first):")
    for requester, page in pages:
        out(f"      {page.total:4d} candidates  {page.assignment.spec.title} "
            f"({requester.organisation}, circle {page.assignment.spec.circle})")
    busiest = sorted(pages, key=lambda p: -p[1].total)[:3]
    out("\n      top candidates, each with exactly the fields they consented to:")
    for requester, page in busiest:
        _show_candidates(system, requester, page, out)

    gone, withdrawn = _withdraw_one(system, plans, created, busiest[0], now, trace,
                                    out)
    # A signed checkpoint, as an operator publishes one, and the whole log checked
    # against it: every record re-hashed, the tree rebuilt, the signature checked.
    checkpoint = system.audit.checkpoint(datetime.now(timezone.utc))
    report = system.audit.verify(checkpoint)
    out(f"audit log: {system.audit.count():,} entries; verify against the checkpoint "
        f"signed now: {'OK' if report.ok else 'FAILED: ' + str(report.problem)} "
        f"(root {report.root_hash[:16]}..., {report.size:,} records, "
        f"{report.checkpoints} signed checkpoint(s) checked)")
    elapsed = time.perf_counter() - started
    out(f"done in {elapsed:.1f} s; data directory {settings.data_dir}")
    shown = _showcase(system, plans, created, pages, withdrawn, now)
    _show_web_login(system, plans, created, shown, settings, out)
    return {"holders": len(created), "disclosures": disclosures, "seconds": elapsed,
            "withdrawn_candidate_gone": gone, "audit_ok": report.ok,
            "checkpoints_checked": report.checkpoints}


def _showcase(system, plans, created, pages, withdrawn: str | None,
              now: datetime) -> int:
    """The holder the last line names: one whose data an organisation saw in this
    run (the walkthrough's organisation if it can), so "who looked at my data" has
    entries, and whose grants all run for at least a week more (a few synthetic
    grants end the next day)."""
    index_of = {pseudonym_for(system.pseudonym_secret, did): index
                for index, did in created.items()}
    lasting = now + timedelta(days=LASTING_DAYS)
    ours_first = sorted(pages, key=lambda p: p[0].organisation != WALKTHROUGH)
    for _, page in ours_first:
        for ranked in page.candidates:
            index = index_of.get(ranked.profile.pseudonym)
            if index is None or ranked.profile.pseudonym == withdrawn:
                continue
            if all(g["valid_until"] > lasting for g in plans[index].grants):
                return index
    return min(created, default=0)


def _show_web_login(system, plans, created, index, settings, out) -> None:
    """How to open the web app as one of the synthetic holders (no real person)."""
    if index not in created:
        return
    out(f"web app: vg serve --data-dir {settings.data_dir}, then open "
        f"http://{settings.host}:{settings.port}/ ; a synthetic civil servant: pod id "
        f"{system.pods.pod_id(created[index])}, passphrase {plans[index].passphrase}; "
        f"a project leader or DPO: vg keys issue {WALKTHROUGH} --role staff|dpo "
        f"--data-dir {settings.data_dir}")


def _fresh_directory(path: Path) -> None:
    """Start empty; only ever remove a directory that an earlier demo created."""
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise SystemExit(f"vg demo: {path} is not empty and not a demo directory")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("created by vg demo\n")


def _create_all(system: System, plans, now, out) -> tuple[dict, int]:
    chunks = [plans[i:i + CHUNK] for i in range(0, len(plans), CHUNK)]
    created: dict[int, str] = {}
    delivered = 0
    # Spawned, not forked: a fork copies whatever lock another thread of this
    # process holds at that moment (a server's or a test runner's threads), and the
    # worker that needs it waits forever.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1),
                             mp_context=spawn) as pool:
        futures = [pool.submit(create_pods, chunk, system.settings.pods_dir,
                               INTERACTIVE, now) for chunk in chunks]
        try:
            for future in as_completed(futures):
                for result in future.result():
                    created[result.index] = result.did
                    for document in result.disclosures:
                        deliver(system.registry, document, now)
                        delivered += 1
                _progress(len(created), len(plans))
        except BaseException:
            # Stopped (Ctrl-C, SIGTERM, a failed chunk): no further chunk starts,
            # and the demo exits only once each worker has finished the chunk it
            # holds, so no worker outlives it writing into a directory the next
            # demo empties.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    sys.stderr.write("\n")
    return created, delivered


def _attest_employments(system: System, plans, created, now) -> int:
    """Each employer confirms the employment of nine in ten of the holders who name
    it (the tenth has not been confirmed yet): only a confirmed employer counts for
    "my organisation" audiences, colleague search and group suggestions."""
    attested = 0
    for index, did in sorted(created.items()):
        if plans[index].employer and index % 10 != UNCONFIRMED:
            system.registry.employment.attest(plans[index].employer, did, now)
            attested += 1
    return attested


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\r      creating pods {done:,}/{total:,}")
    sys.stderr.flush()


def _create_assignments(system: System, municipalities, pools, seed, now):
    made = []
    for place, spec in plan_assignments(20, seed, municipalities, pools,
                                        first=WALKTHROUGH):
        requester = Requester(place, "demo:project-leader", "staff")
        made.append((requester, system.registry.create_assignment(requester, spec, now)))
    return made


def _show_candidates(system, requester, page, out) -> None:
    stored = page.assignment
    name = system.reference.organisation(requester.organisation).name
    out(f"\n  {stored.spec.title} - {name} (circle: {stored.spec.circle}), "
        f"{page.total} candidates")
    for number, ranked in enumerate(page.candidates, 1):
        lines = describe(ranked, system.reference)
        out(f"   {number}. {lines[0]}")
        for line in lines[1:]:
            out(line)


def _withdraw_one(system, plans, created, shown, now, trace,
                  out) -> tuple[bool, str | None]:
    """Withdraw the single grant behind a shown candidate; show they are gone.
    Returns whether they are, and the pseudonym of the one who withdrew."""
    requester, page = shown
    stored = page.assignment
    pick = next((r for r in page.candidates if len(r.profile.grant_ids) == 1), None)
    if pick is None:
        out("[6/6] no candidate with a single grant to withdraw")
        return False, None
    index = next(i for i, did in created.items()
                 if pseudonym_for(system.pseudonym_secret, did) == pick.profile.pseudonym)
    pod = system.pods.unlock(created[index], plans[index].passphrase)
    withdraw_consent(system, pod, pick.profile.grant_ids[0], now)
    after = system.registry.candidates(requester, stored.id, now, trace, 100)
    gone = all(r.profile.pseudonym != pick.profile.pseudonym for r in after.candidates)
    out(f"\n[6/6] subject {pick.profile.pseudonym[:12]} withdrew grant "
        f"{pick.profile.grant_ids[0]}; candidates for '{stored.spec.title}': "
        f"{page.total} before, {after.total} after; "
        f"{'gone from the results' if gone else 'STILL VISIBLE'}")
    return gone, pick.profile.pseudonym
