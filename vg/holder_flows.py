"""What a holder does, end to end: the pod acts, and its signed documents are
delivered to the registry.

In the embedded default both run in this process, but a document still crosses as
JSON text, exactly as it would between two servers run by different parties.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar

from consent import (
    Audience,
    AudienceNeedsEmployer,
    ConsentError,
    AudienceRefusedByEmployer,
    InvalidAudience,
    Grant,
    check_audience_for_holder,
)
from pod import (GrantNotFound, GrantNotLive, GrantRenewed, PodNotFound, UnlockedPod,
                 WorkcontextMissing)
from pod import inbox
from pod.holder import StoredVersion
from pod.renewals import renewals_after
from pod.limits import check_grant_room, counts_as_live
from pod.ratings import rating_summary
from registry import GrantWithdrawn, Registry, RegistryError, ReplayedDocument
from schemas import SchemaError

from . import video_publication
from .pod_inbox import SENDER as RATING_SENDER
from .wiring import System

log = logging.getLogger("vg.holder_flows")
# A pod id: the 32 hex digits the web pages and the demo show for a pod.
POD_ID = re.compile(r"^[0-9a-f]{32}\Z")
# What can refuse a publication after a valid save: the registry (unavailable, a
# replayed sequence from a concurrent request, a grant it already knows withdrawn)
# and the pod (a withdrawal of the grant started meanwhile).
PUBLICATION_ERRORS = (RegistryError, ConsentError, SchemaError, GrantNotLive)
# How often a disclosure is numbered again when a document of the same holder with
# a higher number reached the registry first (a concurrent save or grant).
REPLAY_ATTEMPTS = 5


Flow = TypeVar("Flow", bound=Callable[..., Any])


def serialised(flow: Flow) -> Flow:
    """Run a flow that changes the holder's consent (its second argument is the
    pod) under the pod's grant lock, from reading the grants to recording and
    publishing. Grant, renewal, withdrawal, erasure and the publication of a save
    all take it, so none of them checks what another is about to change (a
    withdrawal reading the grants before a racing renewal records its grant would
    leave the consent live under the renewal, GDPR art. 7(3)). The lock is
    re-entrant per thread: a renewal grants and then ends the old grant in it.
    It is waited for ``grant_lock_seconds`` at most (``grant_lock``)."""

    @functools.wraps(flow)
    def under_grant_lock(system, pod, *args, **kwargs):
        with grant_lock(system, pod):
            return flow(system, pod, *args, **kwargs)

    return under_grant_lock  # type: ignore[return-value]


def grant_lock(system: System, pod: UnlockedPod):
    """The pod's grant lock, waited for as long as the settings say: a request
    stuck holding it makes the others fail with PodBusy (503, Retry-After)
    instead of hanging with it."""
    return pod.grants_locked(wait=system.settings.grant_lock_seconds)


def unlock(system: System, who: str, passphrase: str,
           now: datetime | None = None, upgrade: bool = True,
           client: str | None = None) -> UnlockedPod:
    """Open a pod named by its did or by its pod id, on every way in (API, web
    pages, command line). An unknown pod id or did fails as a wrong passphrase
    does, after the same key derivation, so neither the answer nor its time tells
    anybody which pods exist. Withdrawals the registry could not take before are
    sent again (``retry_withdrawals``). ``upgrade`` False leaves a pod stored at
    a lower cost as it is (``PodStore.unlock``). ``client``, the address the
    request came from, and the pod it names are held to the sign-in limits
    (pod/attempts.py): 429 beyond them, before any key derivation."""
    now = now or datetime.now(timezone.utc)
    pod_id = who if POD_ID.match(who) else system.pods.pod_id(who)
    with system.pods.attempts.attempt(client, pod_id):
        if POD_ID.match(who):
            try:
                who = system.pods.did_for_id(who)
            except PodNotFound:
                system.pods.refuse_unlock(passphrase)  # as slow as a wrong passphrase
        pod = system.pods.unlock(who, passphrase, upgrade=upgrade, now=now)
    retry_withdrawals(system, pod, now)
    republish_pending(system, pod, now)
    return pod


def confirm_passphrase(system: System, did: str, passphrase: str,
                       client: str | None = None) -> None:
    """Check the passphrase of an open pod once more, before an act a session
    alone must not do (export, erasure): UnlockFailed if it is wrong. It is held
    to the same limits as a sign-in (pod/attempts.py) and its failures count
    with them, so a copied session can not guess the passphrase here faster than
    at the sign-in."""
    with system.pods.attempts.attempt(client, system.pods.pod_id(did)):
        system.pods.unlock_without_upgrade(did, passphrase).lock()


def change_passphrase(system: System, did: str, current: str, new: str,
                      client: str | None = None) -> UnlockedPod:
    """Re-wrap the pod's keys under ``new``; ``current`` is checked under the
    sign-in limits, as in ``confirm_passphrase``."""
    with system.pods.attempts.attempt(client, system.pods.pod_id(did)):
        return system.pods.change_passphrase(did, current, new)


def retry_withdrawals(system: System, pod: UnlockedPod, now: datetime) -> int:
    """Send again every withdrawal the registry has not taken yet (it was
    unavailable when the holder withdrew). Only the holder's key signs one, so this
    runs whenever the pod is open: at sign-in, on a save, a grant, and when the
    holder looks at their grants. Returns how many are still pending; a failure
    leaves the grant pending, to be sent on the next occasion.

    What a request that died half-way left is finished here too: a new grant
    whose first disclosure was never confirmed is withdrawn (the registry may
    hold it, the holder was never told it was made), and a renewal whose new
    grant is live withdraws the grant it renews.

    With nothing to settle (the usual case, and a grant another request is
    publishing at this moment) no lock is taken: opening the pod or looking at
    the grants does not wait for that request."""
    if not needs_settling(pod.grants(), pod.publishing_now()):
        return 0
    return _settle_withdrawals(system, pod, now)


@serialised
def _settle_withdrawals(system: System, pod: UnlockedPod, now: datetime) -> int:
    """``retry_withdrawals`` under the grant lock."""
    records = pod.grants()
    if any(r.publishing is not None and r.withdrawn is None and r.pending is None
           for r in records) and pod.abandon_unconfirmed(now):
        records = pod.grants()
    renewed = {r.grant.renews: r.grant.id for r in records
               if r.grant.renews is not None and _settled(r)}
    left = 0
    for record in records:
        if record.withdrawn is not None:
            continue
        if record.pending is None and record.grant.id not in renewed:
            continue
        try:
            end_grant(system, pod, record.grant.id, now,
                      renewed_by=renewed.get(record.grant.id))
        except PUBLICATION_ERRORS as exc:
            log.warning("withdrawal %s still pending: %s", record.grant.id, exc)
            left += 1
    return left


def needs_settling(records, publishing_now: bool = False) -> bool:
    """Whether ``retry_withdrawals`` has anything to do for these records;
    ``publishing_now``: a live request is publishing a new grant, so a grant
    still being published is not one a request left behind."""
    renewed = {r.grant.renews for r in records
               if r.grant.renews is not None and _settled(r)}
    return any(r.withdrawn is None and (r.pending is not None
                                        or (r.publishing is not None
                                            and not publishing_now)
                                        or r.grant.id in renewed)
               for r in records)


def _settled(record) -> bool:
    return (record.withdrawn is None and record.pending is None
            and record.publishing is None)


def deliver(registry: Registry, document: dict[str, Any], now: datetime):
    """Send a signed document across the pod/registry boundary."""
    wire = json.loads(json.dumps(document))
    if wire.get("type") == "Withdrawal":
        return registry.receive_withdrawal(wire, now)
    return registry.receive_disclosure(wire, now)


@dataclass(frozen=True, slots=True)
class Saved:
    version: int
    published: int
    etag: str
    not_published: tuple[dict[str, str], ...] = ()


def check_workcontext(system: System, pod: UnlockedPod, document: Any, *,
                      parsed_bounded: bool = False) -> None:
    """Everything a write must pass before anything is stored: the pod's own
    validation (SHACL), known references, and every check the registry applies to
    a projection, over all fields of the document (stricter than any one grant's
    projection), so a saved version is never one the registry refuses.

    The registry reads the document the pod validated, without a copy: it only
    reads, and it takes the structure and references as checked when its
    validator and reference data are the pod's (one system, ``wiring``), so the
    walks are not repeated. ``parsed_bounded``: the document is what
    ``parse_bounded`` returned (``WorkcontextValidator.check_structure``)."""
    validated = system.validator.validated(document, pod.did, system.reference,
                                           parsed_bounded=parsed_bounded)
    system.registry.check_workcontext(validated, pod.did)


def save_workcontext(system: System, pod: UnlockedPod, document: Any,
                     now: datetime, if_match: str | None = None, *,
                     parsed_bounded: bool = False) -> Saved:
    """Validate, store a new version, and re-publish every live grant.

    A document that fails a check changes nothing. Once the version is saved, a
    grant the registry does not take now (it is unavailable, or a concurrent
    change overtook this one) is reported in ``not_published`` with the reason; the
    registry keeps the previous projection until the next save publishes again,
    unless the grant's audience no longer fits the employer this version names:
    the registry then deletes it and the grant shows as suspended, with a notice.
    ``parsed_bounded``: ``document`` is what ``parse_bounded`` returned.
    """
    checked = checked_workcontext(system, pod, document,
                                  parsed_bounded=parsed_bounded)
    return store_checked_workcontext(system, pod, checked, now, if_match)


def checked_workcontext(system: System, pod: UnlockedPod, document: Any, *,
                        parsed_bounded: bool = False) -> Any:
    """The document as it will be stored, once it passed every check; it reads
    but never changes anything, so a caller may repeat it after a refusal.
    ``parsed_bounded``: ``document`` is what ``parse_bounded`` returned; a stored
    form the pod changed (a rating summary) is walked whole again."""
    stored = stored_form(pod, document)
    check_workcontext(system, pod, stored,
                      parsed_bounded=parsed_bounded and stored is document)
    return stored


def store_checked_workcontext(system: System, pod: UnlockedPod, document: Any,
                              now: datetime, if_match: str | None = None) -> Saved:
    """Store a document ``checked_workcontext`` returned, and re-publish. The
    grants are read (each signature verified) once, for both steps."""
    return publish_stored(system, pod, pod.store_version(document, now, if_match),
                          now)


def publish_stored(system: System, pod: UnlockedPod, stored: StoredVersion,
                   now: datetime) -> Saved:
    """Re-publish after a store, under the grants ``stored`` was committed with
    (each signature verified once, for both steps)."""
    records = stored.grants()
    if needs_settling(records):
        retry_withdrawals(system, pod, now)
    published, failed = 0, ()
    if any(_publishable(record, now) for record in records):
        # Without a publishable grant there is nothing to publish, and no need to
        # wait for the grant lock: a grant made meanwhile publishes the current
        # version itself.
        published, failed = publish_grants(system, pod, records, now)
    if not _left_to_publish(failed):
        pod.note_published(stored.version)
    return Saved(stored.version, published, stored.etag, failed)


def nothing_to_publish(pod: UnlockedPod, stored: StoredVersion,
                       now: datetime) -> Saved | None:
    """The answer to a store whose grants need no publication and no settling,
    reached without blocking; None when ``publish_stored`` has work to do."""
    records = stored.grants()
    if needs_settling(records) or any(_publishable(r, now) for r in records):
        return None
    pod.note_published(stored.version)
    return Saved(stored.version, 0, stored.etag, ())


def republish_pending(system: System, pod: UnlockedPod, now: datetime) -> bool:
    """Publish the Workcontext again if the pod marks a saved version as not yet
    taken by the registry (a crash between the save's commit and its
    publication, or an unavailable registry), so the registry does not go on
    disclosing an older version. Runs whenever the pod is opened and when the
    holder looks at their grants. Returns whether anything is still pending."""
    pending = pod.publication_pending()
    if pending is None:
        return False
    _, failed = publish_grants(system, pod, pod.grants(), now)
    if _left_to_publish(failed):
        return True
    pod.clear_unpublished(pending)
    return False


# Refusals that publishing again would not change: the grant is withdrawn or on
# its way out, so the registry holding no newer version under it is final.
# So is a refusal of the grant's audience for this Workcontext's employer: the
# registry deleted what the grant disclosed before and told the holder (a notice);
# the next save publishes under the grant again.
_FINAL_REFUSALS = frozenset({GrantWithdrawn.code, GrantNotLive.code,
                             GrantRenewed.code, InvalidAudience.code,
                             AudienceNeedsEmployer.code})


def _left_to_publish(failed: tuple[dict[str, str], ...]) -> bool:
    return any(f["code"] not in _FINAL_REFUSALS for f in failed)


@serialised
def publish_grants(system: System, pod: UnlockedPod, records,
                   now: datetime) -> tuple[int, tuple[dict[str, str], ...]]:
    """Publish the current Workcontext under each publishable grant: how many the
    registry took, and each one it did not take with the reason's code.

    A grant the registry holds the holder's signed withdrawal of (a backup from
    before the withdrawal was restored, even after an erasure) is recorded as
    withdrawn in the pod too: the withdrawal was the holder's last word on it."""
    published, failed = 0, []
    for record in records:
        if not _publishable(record, now):
            continue
        try:
            publish(system, pod, record.grant, now)
        except AudienceRefusedByEmployer:
            continue  # suspended by the employer's policy; the holder was told
        except GrantWithdrawn as exc:
            pod.mark_withdrawn(record.grant.id, now)
            failed.append({"grant": record.grant.id, "code": exc.code})
            continue
        except PUBLICATION_ERRORS as exc:
            log.warning("publication of a grant failed: %s", type(exc).__name__)
            failed.append({"grant": record.grant.id, "code": type(exc).code})
            continue
        published += 1
    return published, tuple(failed)


def publish_video_grants(system: System, pod: UnlockedPod, now: datetime) -> None:
    """Publish again every grant of ``intro_video`` after the pod's video changed
    (replaced or deleted), so no organisation goes on watching a video the holder
    took back: the registry's copy ends with the disclosure that named it."""
    records = [r for r in pod.grants()
               if video_publication.FIELD in r.grant.fields]
    if records:
        publish_grants(system, pod, records, now)


def publish(system: System, pod: UnlockedPod, grant: Grant, now: datetime) -> int:
    """Deliver a disclosure of the current Workcontext under ``grant``; returns the
    number of the version it disclosed.

    The pod numbers a document before it is delivered, so a concurrent save or
    grant of the same holder may deliver a higher number first, and the registry
    refuses this one as a replay. It is then made again, with a new number and the
    Workcontext as it is by then: a replay refused here is never the holder's
    last word.

    A grant of ``intro_video`` discloses the registry's address of a copy of the
    video, which is handed over once the disclosure is taken (video_publication)."""
    shared = video_publication.prepare(system, pod, grant)
    for attempt in range(REPLAY_ATTEMPTS):
        document, version = pod.numbered_disclosure(grant, now, shared.present)
        try:
            deliver(system.registry, document, now)
        except ReplayedDocument:
            if attempt == REPLAY_ATTEMPTS - 1:
                raise
            continue
        video_publication.hand_over(system, pod, grant, shared, now)
        return version
    raise AssertionError("unreachable")


def stored_form(pod: UnlockedPod, document: Any) -> Any:
    """The document as ``pod`` stores it, however it came in (a save, a restore,
    an import): what the pod computes is never taken from the document.

    A ``ratingSummary`` member asks to publish the summary: the pod writes its
    numbers from the ratings in its own inbox, whatever the document said, and leaves
    the member out while there is no rating. Without the member nothing is
    published. The summary stays the holder's statement, signed with the holder's
    key like the rest of the disclosure: nobody else attests it."""
    if not isinstance(document, dict) or "ratingSummary" not in document:
        return document
    summary = rating_summary(inbox.messages(pod), RATING_SENDER)
    rest = {k: v for k, v in document.items() if k != "ratingSummary"}
    return rest if summary is None else {**rest, "ratingSummary": summary}


def _publishable(record, now: datetime) -> bool:
    """Live grants and grants whose period has not started yet: the registry keeps
    the projection of a future grant ready but shows it only from its start."""
    return _settled(record) and now < record.grant.valid_until


def employer_code(reference, document: dict | None) -> str | None:
    """The organisation code of the Workcontext's employer; None for a freelancer."""
    tooi = (document or {}).get("worksFor")
    codes = {o.tooi_uri: code for code, o in reference.organisations.items()}
    return codes.get(tooi) if isinstance(tooi, str) else None


@serialised
def grant_consent(system: System, pod: UnlockedPod, audience: Any, purposes: list[str],
                  fields: list[str], valid_until: datetime, now: datetime,
                  valid_from: datetime | None = None,
                  renews: str | None = None) -> Grant:
    """Record a new grant, publish the disclosure it allows, then confirm it.

    The pod's ceilings are checked and the grant recorded under the pod's grant
    lock, so grants made at the same time can not all pass the check before any
    of them is recorded. The grant is recorded first, marked as being published,
    so at no moment can the registry hold a disclosure under a grant the pod does
    not know: the holder sees it (``publicationPending``) and can withdraw it. Once
    the registry took the disclosure the mark goes and the grant is live. A refusal
    (the employer's policy, an unavailable registry: the registry keeps nothing of
    a refused document) forgets the grant again. A request that dies in between
    leaves the mark, and the next time the pod is open the grant is withdrawn
    (``retry_withdrawals``): its maker never learned it was made."""
    parsed = Audience.from_json(audience)
    parsed.check_known(system.reference)
    document = pod.workcontext()
    if document is None:
        raise WorkcontextMissing()
    check_audience_for_holder(parsed, employer_code(system.reference, document))
    retry_withdrawals(system, pod, now)
    with grant_lock(system, pod):
        records = pod.grants()
        replaced = _renewed(records, renews, now) if renews is not None else False
        check_grant_room(records, now, renewal=replaced)
        grant = pod.sign_grant(parsed, purposes, fields, valid_until, now,
                               valid_from=valid_from, renews=renews)
        with pod.publication():
            pod.store_grant(grant, publishing=now)
            try:
                disclosed = publish(system, pod, grant, now)
            except PUBLICATION_ERRORS:
                pod.discard_unconfirmed(grant.id)
                raise
            current = pod.confirm_publication(grant.id)
    if current != disclosed:  # a save meanwhile left this grant out
        publish_grants(system, pod, [pod.grant(grant.id)], now)
    return grant


def _renewed(records, grant_id: str, now: datetime) -> bool:
    """Check, under the grant lock, that the grant a renewal replaces is settled
    and not withdrawn, and that no other grant renews it (two renewals sent at the
    same time: the first wins, the others find it renewed). Returns whether it
    takes a place among the live grants, which the new grant then takes over."""
    old = next((r for r in records if r.grant.id == grant_id), None)
    if old is None:
        raise GrantNotFound(grant_id)
    taken = next((r for r in records if r.grant.renews == grant_id
                  and r.withdrawn is None and r.pending is None), None)
    if taken is not None and _settled(taken):
        raise GrantRenewed(grant_id, taken.grant.id)
    if not _settled(old) or taken is not None:
        raise GrantNotLive(grant_id)
    return counts_as_live(old, now)


@serialised
def withdraw_consent(system: System, pod: UnlockedPod, grant_id: str,
                     now: datetime) -> list[str]:
    """One action, for the consent the grant gave: the grant and every grant that
    renews it (directly or through other renewals) are withdrawn, so a holder who
    names a grant from an older list or receipt never leaves the same consent live
    under its renewal (GDPR art. 7(3)). Returns the renewals this withdrew too.

    Every grant is marked as being withdrawn before any withdrawal is sent. When
    the registry is unavailable the withdrawal stays recorded as pending (the
    grant's ``withdrawn`` is None, ``pending`` set; callers tell the holder that
    the organisation can still see the data until it is taken), and its signed
    document is kept by the server and delivered within a minute of the
    registry's return (``WithdrawalOutbox``), whether the holder comes back or
    not; the pod sends it again whenever it is open (``retry_withdrawals``)."""
    records = pod.grants()
    chain = [grant_id, *renewals_after(records, grant_id)]
    ended = {r.grant.id for r in records if r.withdrawn is not None}
    todo = [g for g in chain if g not in ended]
    documents = [(g, pod.withdrawal(g, now)) for g in todo]
    for withdrawn_id, document in documents:
        try:
            _deliver_withdrawal(system, pod, withdrawn_id, document, now)
        except RegistryError as exc:
            if type(exc).status < 500:
                raise
            log.warning("withdrawal %s kept for later: %s", withdrawn_id,
                        type(exc).code)
            system.withdrawals.keep(document)
    return [g for g in todo if g != grant_id]


@serialised
def end_grant(system: System, pod: UnlockedPod, grant_id: str, now: datetime,
              renewed_by: str | None = None) -> None:
    """Withdraw this one grant (its renewals stay): for a renewal that took over
    (``renewed_by``), and to finish a withdrawal the registry did not take yet."""
    if pod.grant(grant_id).withdrawn is not None:
        return  # already withdrawn: withdrawing again changes nothing
    _deliver_withdrawal(system, pod, grant_id, pod.withdrawal(grant_id, now), now,
                        renewed_by)


def _deliver_withdrawal(system: System, pod: UnlockedPod, grant_id: str,
                        document: dict[str, Any], now: datetime,
                        renewed_by: str | None = None) -> None:
    """The registry deletes the projection first; only then does the pod record
    the withdrawal, so a failure can never leave the data visible while the
    holder is told it was withdrawn."""
    # The registry takes a withdrawal even when a newer document of this holder
    # (a concurrent save's disclosure) overtook it on the way. Should delivery
    # fail, the grant stays pending: nothing more is published under it, and the
    # holder can withdraw it again.
    deliver(system.registry, document, now)
    pod.mark_withdrawn(grant_id, now, renewed_by)
