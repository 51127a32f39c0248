"""Skill pools per HR21 function family, chosen from the real ESCO skills.

ESCO has no municipal job profiles, so the demo groups skills by words in their
English labels and leaves out labels from unrelated trades. Deterministic: the same
reference data always gives the same pools.
"""

from __future__ import annotations

from schemas import ReferenceData

KEYWORDS = {
    "beleid": ("public policy", "policies", "legislation", "government policy", "policy"),
    "realisatie": ("project management", "urban planning", "spatial planning", "zoning",
                   "infrastructure project", "public space", "project"),
    "beheer": ("records management", "database", "information management",
               "data analysis", "data quality", "ICT"),
    "dienstverlening": ("citizens", "public service", "customer service",
                        "social services", "complaints", "community"),
    "management": ("manage staff", "lead a team", "budget", "strategic planning",
                   "change management", "government"),
    "ondersteuning": ("administrative", "office administration", "minutes",
                      "correspondence", "archiv", "schedul"),
    "politiek": ("political", "stakeholder", "negotiat", "lobby", "public relations",
                 "council"),
}
UNRELATED = (
    "vehicle", "aircraft", "vessel", "railway", "tram", "airport", "ship", "offshore",
    "animal", "music", "mining", "hospital", "patient", "prescription", "flight",
    "cargo", "ammunition", "casino", "hotel", "sport", "military", "prison",
    "correctional", "pharm", "dental", "veterin", "fish", "farm", "wine", "food",
    "beverage", "medical", "health", "casting", "automotive",
)


def skill_pools(reference: ReferenceData) -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    for family, words in KEYWORDS.items():
        pools[family] = sorted(
            s.uri for s in reference.skills.values()
            if s.label_en and s.label_nl and _fits(s.label_en.lower(), words)
        )
    return pools


def _fits(label: str, words: tuple[str, ...]) -> bool:
    return any(w.lower() in label for w in words) and not any(
        u in label for u in UNRELATED)
