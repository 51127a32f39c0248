"""The working life after matching, wired as one object beside ``Registry``:
swipes and matches, the feed for pods, teams, ratings, interest groups and peers."""

from __future__ import annotations

from .feed import Feed
from .inbox_delivery import InboxDelivery
from .peers import Peers
from .ratings import Ratings
from .service import Registry
from .swipes import Swipes
from .teams import Teams


class WorkLife:
    def __init__(self, registry: Registry, inbox: InboxDelivery):
        engine, gate = registry.engine, registry.gate
        self.inbox = inbox
        self.swipes = Swipes(engine, gate, registry.assignments)
        self.feed = Feed(engine, registry.assignments, registry.reference,
                         registry.circles)
        self.teams = Teams(engine, gate, self.swipes, registry.assignments)
        self.ratings = Ratings(engine, self.teams, inbox,
                               registry.org_pseudonyms)
        self.peers = Peers(engine, gate, registry.reference,
                           registry.org_pseudonyms)
