"""Ratings sent at the same moment (a double click, two tabs): one per member is
taken, and every other request is told it was (409), never that storage failed."""

from __future__ import annotations

import threading

from tests.vg.api.test_teams import _dissolve, _rate, team  # noqa: F401 (fixture)

EACH_WAY = 5


def test_concurrent_ratings_are_one_202_each_way_and_409_for_the_rest(world, team):
    _dissolve(world, team)
    sanne, bram = team["sanne"], team["bram"]
    pairs = [(sanne, bram), (bram, sanne)] * EACH_WAY
    start = threading.Barrier(len(pairs))
    answers = []

    def rate(rater, rated):
        start.wait()
        answer = _rate(world, team, rater, rated)
        answers.append((answer.status_code, answer.json().get("code")))

    threads = [threading.Thread(target=rate, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == [(202, None)] * 2 + [(409, "already-rated")] * (
        len(pairs) - 2), answers
    assert len(world.inbox.messages[bram.did]) == 1
    assert len(world.inbox.messages[sanne.did]) == 1
