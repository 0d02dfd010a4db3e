"""The console's picture of the alert stream (pure, thread-safe): the latest revision of each
alert, a numbered change log for live updates, and the answers to operators' actions.

Every applied change gets the next sequence number; a page that reconnects with
``Last-Event-ID: <boot>-<seq>`` gets the changes after ``seq`` if this process still holds
them, else a fresh snapshot. ``boot`` changes when the server restarts, so an id from an
earlier process always leads to a snapshot: no alarm is lost across a reconnect.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from riskstream.alarms.priority import sort_key
from riskstream.center.accounts import User
from riskstream.events import Alert, AlertStatus

LOG_SIZE = 20_000
ANSWERS_KEPT = 5_000


@dataclass(frozen=True)
class Filters:
    district: str = ""
    site: str = ""
    severity: str = ""
    status: str = ""  # a status, or "unacknowledged"
    kind: str = ""  # rule name
    claimed_by: str = ""

    def accepts(self, a: Alert) -> bool:
        status_ok = (not self.status or a.status.value == self.status
                     or (self.status == "unacknowledged" and a.status.unacknowledged))
        return (status_ok and (not self.district or a.district == self.district)
                and (not self.site or a.site_id == self.site)
                and (not self.severity or a.severity.value == self.severity)
                and (not self.kind or a.rule == self.kind)
                and (not self.claimed_by or a.lifecycle.claimed_by == self.claimed_by))


class Board:
    def __init__(self, grades: Mapping[str, int | None] | None = None, resolved_kept: int = 500,
                 boot: str | None = None) -> None:
        self.boot = boot or secrets.token_hex(4)
        self._grades = dict(grades or {})
        self._resolved_kept = resolved_kept
        self._alerts: dict[str, Alert] = {}
        self._resolved: OrderedDict[str, None] = OrderedDict()
        self._log: deque[tuple[int, str]] = deque(maxlen=LOG_SIZE)
        self._seq = 0
        self._answers: OrderedDict[str, Alert | str] = OrderedDict()  # action_id -> alert | reason
        self._lock = threading.Lock()
        self.ready = False  # caught up with the stream once

    @property
    def seq(self) -> int:
        return self._seq

    def event_id(self, seq: int | None = None) -> str:
        return f"{self.boot}-{self._seq if seq is None else seq}"

    def apply(self, alert: Alert) -> bool:
        """Take a revision from the stream; False when it is not newer than the one held."""
        with self._lock:
            last = alert.lifecycle.last_action
            if last is not None and last.action_id and last.revision == alert.revision:
                self._answer(last.action_id, alert)
            held = self._alerts.get(alert.alert_id)
            if held is not None and held.revision >= alert.revision:
                return False
            self._alerts[alert.alert_id] = alert
            self._seq += 1
            self._log.append((self._seq, alert.alert_id))
            if alert.status is AlertStatus.RESOLVED:
                self._resolved[alert.alert_id] = None
                while len(self._resolved) > self._resolved_kept:
                    old, _ = self._resolved.popitem(last=False)
                    self._alerts.pop(old, None)
            return True

    def refused(self, action_id: str, reason: str) -> None:
        with self._lock:
            self._answer(action_id, reason)

    def _answer(self, action_id: str, outcome: Alert | str) -> None:
        self._answers[action_id] = outcome
        while len(self._answers) > ANSWERS_KEPT:
            self._answers.popitem(last=False)

    def answer(self, action_id: str) -> Alert | str | None:
        """The revision an action produced, the reason it was refused, or None (not yet)."""
        return self._answers.get(action_id)

    def order(self, alert: Alert) -> list[Any]:
        """The board's sort key of ``alert`` as JSON (pages sort by it: one ordering code)."""
        return list(sort_key(alert, self._grades.get(alert.site_id)))

    def get(self, alert_id: str) -> Alert | None:
        return self._alerts.get(alert_id)

    def all(self) -> list[Alert]:
        """Every alert held (unscoped: for views that scope their own rows)."""
        with self._lock:
            return list(self._alerts.values())

    def visible(self, user: User, alert: Alert) -> bool:
        return user.sees(alert.district)

    def view(self, user: User, filters: Filters = Filters()) -> list[Alert]:
        """The alerts ``user`` may see that pass ``filters``, in the board's order."""
        with self._lock:
            chosen = [a for a in self._alerts.values() if user.sees(a.district) and filters.accepts(a)]
        return sorted(chosen, key=lambda a: sort_key(a, self._grades.get(a.site_id)))

    def since(self, seq: int, user: User) -> list[Alert] | None:
        """The alerts visible to ``user`` that changed after ``seq`` (latest revision each),
        or None when the log no longer reaches back that far (send a snapshot)."""
        with self._lock:
            if seq > self._seq or (self._log and seq < self._log[0][0] - 1) or (
                    not self._log and seq != self._seq):
                return None
            ids = list(dict.fromkeys(aid for s, aid in self._log if s > seq))
            alerts = [self._alerts[i] for i in ids if i in self._alerts]
        return [a for a in alerts if user.sees(a.district)]

    def parse_event_id(self, value: str) -> int | None:
        """The sequence number of a Last-Event-ID from this process, else None."""
        boot, _, seq = value.partition("-")
        return int(seq) if boot == self.boot and seq.isdigit() else None

    def counts(self, alerts: Iterable[Alert]) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in alerts:
            out[a.status.value] = out.get(a.status.value, 0) + 1
            out[a.severity.value] = out.get(a.severity.value, 0) + 1
        out["unacknowledged"] = sum(1 for a in alerts if a.status.unacknowledged)
        return out

    def wait_answer(self, action_id: str, timeout: float,
                    sleep: Callable[[float], None]) -> Alert | str | None:
        """Poll for an answer (used from a worker thread)."""
        waited = 0.0
        while waited < timeout:
            found = self.answer(action_id)
            if found is not None:
                return found
            sleep(0.05)
            waited += 0.05
        return self.answer(action_id)
