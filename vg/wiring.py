"""The composition root: builds every part from the settings, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from audit import AuditLog, FlagRules, Signer
from audit.db import make_engine as make_audit_engine
from pod import Creations, PodStore, SessionSealer
from pod.attempts import SharedFailures
from pod.crypto import INTERACTIVE, MODERATE
from registry import (
    FileDropInbox,
    OrganisationRow,
    Registry,
    VideoShares,
    WorkLife,
    create_tables,
    make_engine,
)
from registry.org_pseudonyms import OrgPseudonyms
from registry.service import ACTION_PURPOSES
from schemas import ReferenceData, WorkcontextValidator, load_reference_data

from .pod_inbox import PodInboxDelivery
from .secrets_store import server_secret
from .settings import Settings
from .withdrawal_outbox import WithdrawalOutbox


@dataclass
class System:
    settings: Settings
    reference: ReferenceData
    validator: WorkcontextValidator
    pods: PodStore
    sessions: SessionSealer
    registry: Registry
    audit: AuditLog
    pseudonym_secret: bytes
    org_pseudonyms: OrgPseudonyms
    audit_rules: FlagRules
    work: WorkLife
    withdrawals: WithdrawalOutbox
    # What one client address may create without credentials (pod/attempts.py).
    creations: Creations = field(default_factory=Creations)

    def close(self) -> None:
        """Release what the running system holds: the audit log's threads are
        stopped and joined and its writer closed, and both databases' pools are
        disposed. Safe to call twice; a closed system still answers (engines
        reconnect on use), it just keeps nothing open in between."""
        self.audit.close()
        self.audit.engine.dispose()
        self.registry.engine.dispose()


def build_system(settings: Settings, reference: ReferenceData | None = None) -> System:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # ESCO is read on the first question about a skill: a worker that only streams
    # binaries, or a command that issues a key, never holds its 36 MB.
    reference = reference or load_reference_data(settings.reference_dir, lazy_esco=True)
    # The log's checkpoint key is a server secret like the others (C2SP signed note).
    signer = Signer(settings.audit_origin,
                    server_secret(settings.data_dir, "audit-log.key"))
    audit = AuditLog(make_audit_engine(settings.audit_url()), signer=signer)
    audit.create_tables()
    engine = make_engine(settings.registry_url())
    create_tables(engine)
    pseudonym_secret = server_secret(settings.data_dir, "pseudonym.key")
    # One validator for the pod's checks and the registry's: a document the pod
    # validated is not walked again by the registry's check before a save.
    validator = WorkcontextValidator()
    # Copies of intro videos shared under grants: ciphertext files, with each
    # copy's data key sealed to this X25519 key (registry/video_shares.py).
    videos = VideoShares(engine, settings.data_dir / "video-shares",
                         server_secret(settings.data_dir, "video-share.key"))
    registry = Registry(engine, reference, audit, pseudonym_secret,
                        validator=validator, video_shares=videos)
    registry.access.seed(organisation_rows(reference))
    cost = MODERATE if settings.kdf_level == "moderate" else INTERACTIVE
    # Keys wrapped before a raised cost open the sessions handed out before, for
    # as long as a session lives (PodStore._upgrade).
    pods = PodStore(settings.pods_dir, kdf_cost=cost,
                    rewrap_grace=timedelta(minutes=settings.session_minutes))
    ratings = PodInboxDelivery(pods, FileDropInbox(settings.data_dir / "inbox-drop"))
    return System(
        settings=settings,
        reference=reference,
        validator=validator,
        pods=pods,
        sessions=SessionSealer(server_secret(settings.data_dir, "session.key"),
                               timedelta(minutes=settings.session_minutes),
                               signed_out_dir=settings.data_dir / "signed-out",
                               ended=pods.opened.forget),
        registry=registry,
        audit=audit,
        pseudonym_secret=pseudonym_secret,
        org_pseudonyms=registry.org_pseudonyms,
        audit_rules=FlagRules(expected_purposes=ACTION_PURPOSES),
        work=WorkLife(registry, ratings),
        withdrawals=WithdrawalOutbox(settings.data_dir / "withdrawals-pending"),
        creations=creations(settings),
    )


def creations(settings: Settings) -> Creations:
    """The creation bound of ``settings``, counted in a file under the pods'
    directory that every worker of the server shares (next to the sign-in
    failures, pod/attempts.py)."""
    counts = settings.pods_dir / ".attempts" / "creations.sqlite"
    return Creations(free=settings.creations_free,
                     longest=settings.creations_longest_seconds,
                     forget_after=settings.creations_forget_seconds,
                     counts=SharedFailures(counts))


def organisation_rows(reference: ReferenceData) -> list[OrganisationRow]:
    return [
        OrganisationRow(code, org.name, org.sector,
                        org.province_codes[0] if org.province_codes else None)
        for code, org in reference.organisations.items()
    ]
