"""The alarm lifecycle of one site (pure), after ISA-18.2: open -> acknowledged -> resolved;
returned (to normal, unacknowledged); shelved; escalated; devices out of service and risk
points suppressed by design. Every transition is a new revision with who, when, and why.

* A finding for a (rule, scope) that already has a live alert updates it (new events, later
  ``last_ts``, next revision) instead of raising a duplicate; an unchanged finding emits nothing.
* A resolved alert starts the rule's cooldown: findings for the same scope are suppressed and
  counted until it ends.
* An alert not acknowledged ``escalate_after_s`` after it opened is escalated once: status
  ``escalated``, severity one step up.
* With ``update_interval_s``, updates of a live alert are published at most that often (event
  time): a change inside the interval is kept in the book ("held") and goes out with the next
  published revision — a later update, an action, an escalation or a tick.
* ``shelve`` (supervisor) hides one alert for ``duration_s`` (capped by
  ``correlation.max_shelve_s``) with a reason; it comes back by itself when the shelf expires
  (a tick). ``out_of_service`` / ``suppress`` (supervisor) are condition records of a device or
  a risk point on the alert stream; while one is live that source raises nothing.
* A resolve needs a reason and the action taken (the closed loop: claim, verify, respond,
  clear); roles are re-checked here (:mod:`riskstream.alarms.roles`).
* Alert ids are derived from site, rule, scope and first event, so replaying the same events
  after a crash yields the same alert, never a second one.

Where an alert stands (opened, acknowledged, cleared, held changes, the history of actions)
is the alert's typed :class:`~riskstream.events.Lifecycle`; ``attrs`` holds the rule's details.
The book is plain JSON-able data kept in the site's state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from riskstream.alarms.roles import may
from riskstream.config.rules import RESERVED_RULE_NAMES, LifecycleOptions
from riskstream.events import (
    ActionKind,
    ActionRecord,
    Alert,
    AlertAction,
    AlertStatus,
    Lifecycle,
    Severity,
    parse_time,
)
from riskstream.streams.rules.base import Finding

Book = dict[str, Any]
MAX_EVENT_IDS = 200
MAX_HISTORY = 50
DEFAULT_MAX_SHELVE_S = 8 * 3600.0
_ORDER = [Severity.INFO, Severity.WARNING, Severity.MAJOR, Severity.CRITICAL]


class ActionRejected(ValueError):
    """An action that cannot be applied (unknown alert, wrong state); the reason says why."""


def new_book() -> Book:
    return {"live": {}, "cooldown": {}, "suppressed": {}}


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def alert_id_for(site_id: str, rule: str, key: str, first_event: str) -> str:
    digest = hashlib.sha1(f"{site_id}|{rule}|{key}|{first_event}".encode()).hexdigest()
    return "AL" + digest[:24].upper()


def _slot(rule: str, key: str) -> str:
    return f"{rule}|{key}"


def on_finding(
    book: Book,
    finding: Finding,
    options: LifecycleOptions,
    site_id: str,
    district: str,
    now_ms: int,
) -> tuple[Book, Alert | None]:
    """Apply a rule's finding; returns the new or changed alert (None: nothing to publish)."""
    slot = _slot(finding.rule, finding.key)
    live = book["live"].get(slot)
    if live is not None:
        return _update(book, slot, live, finding, options, now_ms)
    if book["cooldown"].get(slot, 0) > now_ms:
        suppressed = dict(book["suppressed"])
        suppressed[slot] = suppressed.get(slot, 0) + 1
        return {**book, "suppressed": suppressed}, None
    alert = Alert(
        alert_id=alert_id_for(site_id, finding.rule, finding.key, finding.event_ids[0]),
        rule=finding.rule,
        site_id=site_id,
        district=district,
        severity=options.severity,
        first_ts=_dt(finding.first_ms),
        last_ts=_dt(max(finding.last_ms, finding.first_ms)),
        event_ids=finding.event_ids[-MAX_EVENT_IDS:],
        explanation=finding.explanation,
        status=AlertStatus.OPEN,
        revision=1,
        updated_at=_dt(now_ms),
        attrs={**finding.attrs, "key": finding.key, "description": options.description},
        lifecycle=Lifecycle(opened_at=_dt(now_ms), published_event_at=_dt(finding.last_ms)),
    )
    return _store(book, slot, alert), alert


def on_clear(book: Book, finding: Finding, now_ms: int) -> tuple[Book, Alert | None]:
    """The condition behind a live alert ended (e.g. a silent device reported again). An
    acknowledged (or shelved) alert returns to normal: resolved by the system, saying why, with
    no cooldown. An unacknowledged one is *returned to normal unacknowledged* (ISA-18.2): it
    stays live until an operator acknowledges it. Nothing to do if none is live."""
    slot = _slot(finding.rule, finding.key)
    live = book["live"].get(slot)
    if live is None:
        return book, None
    alert = Alert.from_json(live)
    if alert.status is AlertStatus.RETURNED:
        return book, None
    entry = ActionRecord("clear", "riskstream", _dt(now_ms), finding.explanation,
                         revision=alert.revision + 1)
    lifecycle = replace(alert.lifecycle, cleared_at=_dt(now_ms), last_action=entry,
                        history=(*alert.lifecycle.history, entry)[-MAX_HISTORY:])
    explanation = f"{alert.explanation} Cleared: {finding.explanation}."
    if alert.status in (AlertStatus.OPEN, AlertStatus.ESCALATED):
        returned = _published(replace(alert, lifecycle=lifecycle), now_ms,
                              status=AlertStatus.RETURNED, explanation=explanation)
        return _store(book, slot, returned), returned
    resolved = _published(replace(alert, lifecycle=lifecycle), now_ms,
                          status=AlertStatus.RESOLVED, explanation=explanation)
    return {**book, "live": {k: v for k, v in book["live"].items() if k != slot}}, resolved


def _update(
    book: Book,
    slot: str,
    live: dict[str, Any],
    finding: Finding,
    options: LifecycleOptions,
    now_ms: int,
) -> tuple[Book, Alert | None]:
    alert = Alert.from_json(live)
    new_ids = [e for e in finding.event_ids if e not in alert.event_ids]
    returned = alert.status is AlertStatus.RETURNED  # active again before anyone acknowledged
    if not new_ids and not returned:
        return book, None
    merged = replace(
        alert,
        event_ids=(*alert.event_ids, *new_ids)[-MAX_EVENT_IDS:],
        last_ts=max(alert.last_ts, _dt(finding.last_ms)),
        explanation=finding.explanation,
        attrs={**alert.attrs, **finding.attrs},
    )
    if returned:
        lifecycle = replace(alert.lifecycle, cleared_at=None)
        reopened = _published(replace(merged, lifecycle=lifecycle), now_ms, finding.last_ms,
                              status=AlertStatus.OPEN)
        return _store(book, slot, reopened), reopened
    published = alert.lifecycle.published_event_at
    since = finding.last_ms - (_ms(published) if published else 0)
    if options.update_interval_s and since < options.update_interval_s * 1000:
        held = replace(merged, lifecycle=replace(alert.lifecycle, held=alert.lifecycle.held + 1))
        return _store(book, slot, held), None
    updated = _published(merged, now_ms, finding.last_ms)
    return _store(book, slot, updated), updated


def _published(alert: Alert, now_ms: int, event_ms: int | None = None, **changes: Any) -> Alert:
    """The next revision of ``alert``; anything held so far goes out with it."""
    lifecycle = replace(alert.lifecycle, held=0)
    if event_ms is not None:
        lifecycle = replace(lifecycle, published_event_at=_dt(event_ms))
    return replace(alert, revision=alert.revision + 1, updated_at=_dt(now_ms),
                   lifecycle=lifecycle, **changes)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _store(book: Book, slot: str, alert: Alert) -> Book:
    return {**book, "live": {**book["live"], slot: alert.to_dict()}}


def _find(book: Book, alert_id: str) -> tuple[str, Alert]:
    for slot, data in book["live"].items():
        if data["alert_id"] == alert_id:
            return slot, Alert.from_json(data)
    raise ActionRejected(f"alert {alert_id} is not open at this site (unknown or resolved)")


def on_action(
    book: Book, action: AlertAction, cooldowns: Mapping[str, float], now_ms: int,
    max_shelve_s: float = DEFAULT_MAX_SHELVE_S,
) -> tuple[Book, Alert]:
    """Apply an operator's action; raises :class:`ActionRejected` when it does not fit."""
    if not may(action.role, action.action):
        raise ActionRejected(f"role {action.role or '(none)'!r} may not {action.action.value}")
    if action.action.on_target:
        raise ActionRejected(f"{action.action.value} acts on a device or point: see on_target_action")
    slot, alert = _find(book, action.alert_id)
    if alert.rule in CONDITION_RULES:
        raise ActionRejected(f"alert {alert.alert_id} is a {alert.rule} record: end it with "
                             f"{'return_to_service' if alert.rule == OUT_OF_SERVICE_RULE else 'unsuppress'}")
    if any(h.action_id == action.action_id for h in alert.lifecycle.history):
        raise ActionRejected(f"action {action.action_id} was already applied")
    status, lifecycle = _transition(alert, action, now_ms, max_shelve_s)
    entry = ActionRecord(action.action.value, action.by, action.at, action.comment,
                         action.action_id, alert.revision + 1, action.role, action.action_taken)
    lifecycle = replace(lifecycle, history=(*lifecycle.history, entry)[-MAX_HISTORY:],
                        last_action=entry)
    updated = _published(replace(alert, lifecycle=lifecycle), now_ms, status=status)
    if status is AlertStatus.RESOLVED:
        live = {k: v for k, v in book["live"].items() if k != slot}
        if alert.lifecycle.cleared_at is not None:  # returned to normal: nothing to cool down
            return {**book, "live": live}, updated
        until = now_ms + int(cooldowns.get(alert.rule, 0.0) * 1000)
        return {**book, "live": live, "cooldown": {**book["cooldown"], slot: until}}, updated
    return _store(book, slot, updated), updated


def _transition(alert: Alert, action: AlertAction, now_ms: int,
                max_shelve_s: float) -> tuple[AlertStatus, Lifecycle]:
    """The status and lifecycle ``action`` leads to (ISA-18.2), or :class:`ActionRejected`."""
    status, lifecycle, kind = alert.status, alert.lifecycle, action.action
    if kind is ActionKind.ACKNOWLEDGE:
        if status is AlertStatus.ACKNOWLEDGED:
            raise ActionRejected(f"alert {alert.alert_id} is already acknowledged")
        if not status.unacknowledged:
            raise ActionRejected(f"alert {alert.alert_id} is {status.value}: nothing to acknowledge")
        # returned to normal and now acknowledged: back to normal
        done = AlertStatus.RESOLVED if status is AlertStatus.RETURNED else AlertStatus.ACKNOWLEDGED
        return done, replace(lifecycle, acknowledged_at=action.at)
    if kind is ActionKind.RESOLVE:
        if not action.comment.strip() or not action.action_taken.strip():
            raise ActionRejected("resolve needs a reason (comment) and the action taken")
        return AlertStatus.RESOLVED, lifecycle
    if kind is ActionKind.COMMENT:
        if not action.comment.strip():
            raise ActionRejected("a comment needs text")
        return status, lifecycle
    if kind is ActionKind.CLAIM:
        return status, replace(lifecycle, claimed_by=action.assignee or action.by)
    if kind is ActionKind.SHELVE:
        if not action.comment.strip() or action.duration_s is None:
            raise ActionRejected("shelve needs a reason (comment) and duration_s")
        seconds = min(action.duration_s, max_shelve_s)  # capped by correlation.max_shelve_s
        back_to = lifecycle.shelved_from if status is AlertStatus.SHELVED else status.value
        return AlertStatus.SHELVED, replace(lifecycle, shelved_until=_dt(now_ms + int(seconds * 1000)),
                                            shelved_from=back_to)
    if kind is ActionKind.UNSHELVE:
        if status is not AlertStatus.SHELVED:
            raise ActionRejected(f"alert {alert.alert_id} is {status.value}, not shelved")
        return _unshelved(lifecycle)
    raise ActionRejected(f"{kind.value} does not act on an alert")


def _shelf_expired(alert: Alert, now_ms: int) -> Alert:
    status, lifecycle = _unshelved(alert.lifecycle)
    entry = ActionRecord("unshelve", "riskstream", _dt(now_ms), "shelve expired",
                         revision=alert.revision + 1)
    lifecycle = replace(lifecycle, last_action=entry,
                        history=(*lifecycle.history, entry)[-MAX_HISTORY:])
    return _published(replace(alert, lifecycle=lifecycle), now_ms, status=status)


def _unshelved(lifecycle: Lifecycle) -> tuple[AlertStatus, Lifecycle]:
    back = AlertStatus(lifecycle.shelved_from or AlertStatus.OPEN.value)
    return back, replace(lifecycle, shelved_until=None, shelved_from="")


OUT_OF_SERVICE_RULE, SUPPRESSED_RULE = RESERVED_RULE_NAMES
CONDITION_RULES = RESERVED_RULE_NAMES
_CONDITIONS = {  # action -> (rule, status, True: it starts the condition)
    ActionKind.OUT_OF_SERVICE: (OUT_OF_SERVICE_RULE, AlertStatus.OUT_OF_SERVICE, True),
    ActionKind.RETURN_TO_SERVICE: (OUT_OF_SERVICE_RULE, AlertStatus.OUT_OF_SERVICE, False),
    ActionKind.SUPPRESS: (SUPPRESSED_RULE, AlertStatus.SUPPRESSED, True),
    ActionKind.UNSUPPRESS: (SUPPRESSED_RULE, AlertStatus.SUPPRESSED, False),
}


def on_target_action(book: Book, action: AlertAction, site_id: str, district: str,
                     now_ms: int) -> tuple[Book, Alert]:
    """Take a device out of service or suppress a risk point by design (or end either): the
    condition is a record on the alert stream (status ``out_of_service`` / ``suppressed``),
    live until it ends, so it is listed, audited and kept in the site state across restarts."""
    if not may(action.role, action.action):
        raise ActionRejected(f"role {action.role or '(none)'!r} may not {action.action.value}")
    rule, status, starts = _CONDITIONS[action.action]
    slot = _slot(rule, action.target)
    live = book["live"].get(slot)
    entry = ActionRecord(action.action.value, action.by, action.at, action.comment,
                         action.action_id, 1, action.role)
    if starts:
        if live is not None:
            raise ActionRejected(f"{action.target} is already {status.value}")
        if not action.comment.strip():
            raise ActionRejected(f"{action.action.value} needs a reason (comment)")
        what = "out of service" if status is AlertStatus.OUT_OF_SERVICE else "suppressed by design"
        record = Alert(
            alert_id=alert_id_for(site_id, rule, action.target, action.action_id), rule=rule,
            site_id=site_id, district=district, severity=Severity.INFO, first_ts=_dt(now_ms),
            last_ts=_dt(now_ms), event_ids=(), status=status, revision=1, updated_at=_dt(now_ms),
            explanation=f"{action.target} {what} by {action.by}: {action.comment}",
            attrs={"key": action.target, "target": action.target},
            lifecycle=Lifecycle(opened_at=_dt(now_ms), history=(entry,), last_action=entry))
        return _store(book, slot, record), record
    if live is None:
        raise ActionRejected(f"{action.target} is not {status.value}")
    alert = Alert.from_json(live)
    if any(h.action_id == action.action_id for h in alert.lifecycle.history):
        raise ActionRejected(f"action {action.action_id} was already applied")
    entry = replace(entry, revision=alert.revision + 1)
    lifecycle = replace(alert.lifecycle, cleared_at=_dt(now_ms), last_action=entry,
                        history=(*alert.lifecycle.history, entry)[-MAX_HISTORY:])
    ended = _published(replace(alert, lifecycle=lifecycle), now_ms, status=AlertStatus.RESOLVED)
    return {**book, "live": {k: v for k, v in book["live"].items() if k != slot}}, ended


def silenced(book: Book) -> tuple[set[str], set[str]]:
    """The devices out of service and the risk points suppressed by design in ``book``."""
    devices, points = set(), set()
    for slot in book["live"]:
        rule, _, target = slot.partition("|")
        if rule == OUT_OF_SERVICE_RULE:
            devices.add(target)
        elif rule == SUPPRESSED_RULE:
            points.add(target)
    return devices, points


def on_tick(
    book: Book,
    escalate_after: Mapping[str, float | None],
    now_ms: int,
    update_interval: Mapping[str, float] | None = None,
    site_now_ms: int | None = None,
) -> tuple[Book, list[Alert]]:
    """Escalate overdue unacknowledged alerts, publish held updates whose interval has passed
    (by the site's event-time clock ``site_now_ms``) and forget ended cooldowns."""
    changed: list[Alert] = []
    for data in book["live"].values():
        limit = escalate_after.get(data["rule"])
        if "lifecycle" not in data:  # kept before the typed lifecycle
            data = Alert.from_json(data).to_dict()
        lifecycle = data["lifecycle"]
        until = lifecycle.get("shelved_until")
        if data["status"] == AlertStatus.SHELVED.value and until is not None and (
                _ms(parse_time(until, "shelved_until")) <= now_ms):
            changed.append(_shelf_expired(Alert.from_json(data), now_ms))
            continue
        opened = lifecycle.get("opened_at")
        overdue = (
            limit is not None and opened is not None
            and data["status"] == AlertStatus.OPEN.value
            and now_ms - _ms(parse_time(opened, "opened_at")) >= limit * 1000
        )
        if overdue:
            assert limit is not None
            alert = Alert.from_json(data)
            severity = _ORDER[min(alert.severity.rank + 1, len(_ORDER) - 1)]
            reason = f" Escalated: not acknowledged within {limit:g} s."
            changed.append(
                _published(
                    alert,
                    now_ms,
                    status=AlertStatus.ESCALATED,
                    severity=severity,
                    explanation=alert.explanation + reason,
                )
            )
            continue
        interval = (update_interval or {}).get(data["rule"], 0.0)
        clock = site_now_ms if site_now_ms is not None else now_ms
        published = lifecycle.get("published_event_at")
        since = clock - (_ms(parse_time(published, "published_event_at")) if published else 0)
        if lifecycle.get("held") and since >= interval * 1000:
            changed.append(_published(Alert.from_json(data), now_ms, clock))
    for alert in changed:
        book = _store(book, _slot(alert.rule, alert.attrs["key"]), alert)
    cooldown = {k: v for k, v in book["cooldown"].items() if v > now_ms}
    if cooldown != book["cooldown"]:
        suppressed = {k: v for k, v in book["suppressed"].items() if k in cooldown}
        book = {**book, "cooldown": cooldown, "suppressed": suppressed}
    return book, changed
