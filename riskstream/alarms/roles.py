"""Command-center roles and what each may do (one table, read by the console and re-checked by
the correlator, which trusts only the center principal but still refuses a role's overreach).

* city_operator: every district; acknowledge, comment, claim, resolve.
* district_operator: the same, in their own district only (the scope is the console's job).
* supervisor: every district; an operator's actions plus shelve, out of service and
  suppressed by design.
* viewer: reads everything in scope (auditors), acts on nothing.
* admin: manages users; reads, acts on no alarm.
"""

from __future__ import annotations

from enum import StrEnum

from riskstream.events import ActionKind


class Role(StrEnum):
    CITY_OPERATOR = "city_operator"
    DISTRICT_OPERATOR = "district_operator"
    SUPERVISOR = "supervisor"
    VIEWER = "viewer"
    ADMIN = "admin"

    @property
    def city_wide(self) -> bool:
        return self is not Role.DISTRICT_OPERATOR


OPERATOR_ACTIONS = frozenset({ActionKind.ACKNOWLEDGE, ActionKind.COMMENT, ActionKind.CLAIM,
                              ActionKind.RESOLVE})
SUPERVISOR_ONLY = frozenset({ActionKind.SHELVE, ActionKind.UNSHELVE, ActionKind.OUT_OF_SERVICE,
                             ActionKind.RETURN_TO_SERVICE, ActionKind.SUPPRESS,
                             ActionKind.UNSUPPRESS})
ALLOWED: dict[Role, frozenset[ActionKind]] = {
    Role.CITY_OPERATOR: OPERATOR_ACTIONS,
    Role.DISTRICT_OPERATOR: OPERATOR_ACTIONS,
    Role.SUPERVISOR: OPERATOR_ACTIONS | SUPERVISOR_ONLY,
    Role.VIEWER: frozenset(),
    Role.ADMIN: frozenset(),
}


def may(role: Role | str, action: ActionKind) -> bool:
    """Whether ``role`` may take ``action``. An action with no role (the command line, sent
    by the center principal) may take an operator's actions only."""
    try:
        known = Role(role)
    except ValueError:
        return not role and action in OPERATOR_ACTIONS
    return action in ALLOWED[known]
