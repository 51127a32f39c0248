"""Ratings between former team members, sealed to the rated person.

A rating is personal data of the rated person (GDPR art. 4(1)): it goes to their pod
and nowhere else. The registry checks who may rate whom, seals the rating to the
holder's X25519 key (derived from the Ed25519 key in their did:key) with a libsodium
sealed box, hands the ciphertext to the inbox port and keeps only a receipt that a
rating was sent (to refuse a second one). It keeps no aspect and no comment. An
organisation sees a rating only if the holder publishes an aggregate under a grant.
The rater is not named in the message: the rated person learns the team, not who.

The message goes with an origin, so that the pod can bound how many messages one
sender leaves in the inbox: the rater as the team's organisation knows them
(org_pseudonyms.py), the name the rated member saw them by on the team page. Never
the registry's pseudonym, which is the same for every organisation: a pod on a
server of its own would otherwise learn an identifier it could join with what
another organisation was shown.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import nacl.bindings
import nacl.public
from sqlalchemy import Engine, insert, select

from consent import format_time, public_key_from_did

from .db import take_turn, transaction
from .errors_work import AlreadyRated, InvalidWorkInput, NotATeamMember
from .errors_work import RatingNotOpen, RecipientUnknown
from .inbox_delivery import InboxDelivery
from .org_pseudonyms import OrgPseudonyms
from .tables import Holder
from .tables_work import RatingReceipt
from .teams import TeamRow, Teams

R = RatingReceipt.__table__
H = Holder.__table__
ASPECTS = ("collaboration", "expertise", "reliability", "communication")
SCORES = range(1, 6)
MAX_COMMENT = 1000


def seal_to_did(did: str, message: bytes) -> bytes:
    """A sealed box to the X25519 form of the did:key's Ed25519 key (RFC 7748 and
    libsodium's birational map): only the holder's pod can open it."""
    curve = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public_key_from_did(did))
    return nacl.public.SealedBox(nacl.public.PublicKey(curve)).encrypt(message)


def check_rating(aspects: dict[str, Any], comment: str) -> None:
    problems = []
    if set(aspects) != set(ASPECTS):
        problems.append("aspects must be exactly " + ", ".join(ASPECTS))
    for name, score in aspects.items():
        if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
            problems.append(f"aspects.{name} must be an integer from 1 to 5")
    if len(comment) > MAX_COMMENT:
        problems.append(f"comment must be at most {MAX_COMMENT} characters")
    if problems:
        raise InvalidWorkInput(problems)


class Ratings:
    def __init__(self, engine: Engine, teams: Teams, inbox: InboxDelivery,
                 names: OrgPseudonyms):
        self._engine = engine
        self._teams = teams
        self._inbox = inbox
        self._names = names

    def rate(self, rater: str, team: TeamRow, rated: str, aspects: dict[str, Any],
             comment: str, now: datetime) -> None:
        check_rating(aspects, comment)
        if team.status != "dissolved":
            raise RatingNotOpen(team.name)
        if rater == rated:
            raise InvalidWorkInput(
                ["a member rates the others in the team, not themselves"])
        if self._teams.membership(team.id, rated) is None:
            raise NotATeamMember(team.name)
        message = json.dumps({
            "type": "Rating", "team": team.name, "aspects": aspects,
            "comment": comment, "sent": format_time(now)}, ensure_ascii=False)
        with transaction(self._engine) as conn:
            take_turn(conn, R, f"rating|{team.id}|{rater}|{rated}")
            if conn.execute(select(R.c.team_id).where(
                    R.c.team_id == team.id, R.c.rater == rater,
                    R.c.rated == rated)).first():
                raise AlreadyRated(team.name)
            did = conn.execute(select(H.c.did).where(H.c.pseudonym == rated)) \
                .scalar_one_or_none()
            if did is None:
                raise RecipientUnknown(rated)
            conn.execute(insert(R).values(team_id=team.id, rater=rater, rated=rated,
                                          sent=now))
            # Delivered inside the transaction: if the drop fails, no receipt is
            # kept and the rater can try again.
            self._inbox.deliver(did, seal_to_did(did, message.encode("utf-8")),
                                origin=self._names.shown(team.organisation, rater))
