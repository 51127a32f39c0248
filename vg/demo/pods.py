"""Creating the synthetic holders' pods, in worker processes.

Key derivation (Argon2id) and SHACL validation dominate the cost, so plans are split
over processes; each returns the signed disclosures its pods produced, and the parent
delivers them to the registry, as pods would over the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from consent import Audience
from pod import PodStore
from schemas import WorkcontextValidator

from ..holder_flows import stored_form
from .people import PersonPlan


@dataclass
class Created:
    index: int
    did: str
    disclosures: list[dict]


def create_pods(plans: list[PersonPlan], pods_dir: Path, kdf_cost: tuple[int, int],
                now: datetime) -> list[Created]:
    store = PodStore(pods_dir, kdf_cost=kdf_cost)
    validator = WorkcontextValidator()
    return [_create(store, validator, plan, now) for plan in plans]


def _create(store: PodStore, validator: WorkcontextValidator, plan: PersonPlan,
            now: datetime) -> Created:
    pod = store.create(plan.passphrase, now)
    document = {**plan.workcontext, "id": pod.did}
    validator.validate(document, holder_id=pod.did)
    pod.save_workcontext(stored_form(pod, document), now)
    disclosures = []
    for spec in plan.grants:
        grant = pod.add_grant(Audience.from_json(spec["audience"]), spec["purposes"],
                              spec["fields"], spec["valid_until"], now)
        disclosures.append(pod.disclosure(grant, now))
    return Created(plan.index, pod.did, disclosures)
