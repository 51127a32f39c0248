"""Errors of swipes, matches, teams, ratings and interest groups; all are
``RegistryError`` (registry/errors.py), so the one problem handler renders them.

    RegistryError
    ├── InvalidWorkInput     400 invalid-input          (problems)
    ├── NoMatch              403 no-match               (assignment_id)
    ├── NotATeamMember       403 not-a-team-member      (team)
    ├── NotAGroupMember      403 not-a-group-member     (group)
    ├── CandidateNotFound    404 candidate-not-found    (subject)
    ├── ContactNotGranted    404 contact-not-granted    (subject)
    ├── TeamNotFound         404 team-not-found         (team)
    ├── GroupNotFound        404 group-not-found        (group)
    ├── EmployeeNotFound     404 employee-not-found     (subject)
    ├── TeamDissolved        409 team-dissolved         (team)
    ├── RatingNotOpen        409 rating-not-open        (team)
    ├── AlreadyRated         409 already-rated          (team)
    ├── NameTaken            409 name-taken             (name)
    ├── LimitReached         409 limit-reached          (limit, what)
    └── RecipientUnknown     404 recipient-unknown      (subject)
"""

from __future__ import annotations

from .errors import RegistryError


class InvalidWorkInput(RegistryError):
    status = 400
    code = "invalid-input"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class NoMatch(RegistryError):
    status = 403
    code = "no-match"

    def __init__(self, assignment_id: int):
        super().__init__("there is no mutual like for this assignment and person")
        self.assignment_id = assignment_id


class NotATeamMember(RegistryError):
    status = 403
    code = "not-a-team-member"

    def __init__(self, team: str):
        super().__init__("only members of the team may do this")
        self.team = team


class NotAGroupMember(RegistryError):
    status = 403
    code = "not-a-group-member"

    def __init__(self, group: str):
        super().__init__("only members of the group may do this")
        self.group = group


class CandidateNotFound(RegistryError):
    status = 404
    code = "candidate-not-found"

    def __init__(self, subject: str):
        super().__init__("no candidate with this pseudonym is visible to you")
        self.subject = subject


class ContactNotGranted(RegistryError):
    status = 404
    code = "contact-not-granted"

    def __init__(self, subject: str):
        super().__init__("this person has not granted you contact details")
        self.subject = subject


class TeamNotFound(RegistryError):
    status = 404
    code = "team-not-found"

    def __init__(self, team: str):
        super().__init__(f"team {team!r} does not exist for you")
        self.team = team


class GroupNotFound(RegistryError):
    status = 404
    code = "group-not-found"

    def __init__(self, group: str):
        super().__init__(f"interest group {group!r} does not exist")
        self.group = group


class TeamDissolved(RegistryError):
    status = 409
    code = "team-dissolved"

    def __init__(self, team: str):
        super().__init__(f"team {team!r} is dissolved")
        self.team = team


class RatingNotOpen(RegistryError):
    status = 409
    code = "rating-not-open"

    def __init__(self, team: str):
        super().__init__("members rate each other only after the team is dissolved")
        self.team = team


class AlreadyRated(RegistryError):
    status = 409
    code = "already-rated"

    def __init__(self, team: str):
        super().__init__("you already rated this member for this team")
        self.team = team


class NameTaken(RegistryError):
    status = 409
    code = "name-taken"

    def __init__(self, name: str):
        super().__init__(f"the name {name!r} is taken")
        self.name = name


class LimitReached(RegistryError):
    status = 409
    code = "limit-reached"

    def __init__(self, limit: int, what: str):
        super().__init__(f"at most {limit} {what}")
        self.limit = limit
        self.what = what


class RecipientUnknown(RegistryError):
    status = 404
    code = "recipient-unknown"

    def __init__(self, subject: str):
        super().__init__("the rated member can no longer be reached")
        self.subject = subject


class EmployeeNotFound(RegistryError):
    status = 404
    code = "employee-not-found"

    def __init__(self, reference: str):
        super().__init__("this organisation attests no employee with this reference")
        self.reference = reference
