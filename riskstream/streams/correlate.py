"""Everything the correlator does for one site: no I/O, the site's state passed in and out.

Per event: drop re-sent events (event_id seen within the dedup window; the ids live in the
in-memory :attr:`SiteProcessor.recent`, not in the site state, see
:mod:`riskstream.streams.dedup`), run every rule, and turn findings into alert changes
(district from the registry). Per operator action: apply it to the alert book (a device
out of service or a point suppressed by design silences its events: recorded by the store,
fed to no rule). Per tick:
expire windows, detect silence, escalate. The Faust agent only loads the state, calls these,
stores the state (and the recent ids' new segment) and publishes the alerts.

Time: rule windows run on event time. Between events a site's clock is its newest event time
plus the wall time since that event arrived, so windows expire and silence is noticed in real
time for live data, while a replay of old events is not wiped out by the wall clock. The wall
time only counts while the site's partition is caught up (``live``): while a backlog waits,
the events in it are the site's clock, and a tick must not expire windows they would extend.
Dedup and escalation run on processing (wall) time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from riskstream.alarms.priority import alarm_class, rule_class, stronger
from riskstream.config.rules import EventMatch
from riskstream.config.schema import Config
from riskstream.events import ActionKind, Alert, AlertAction, Event, Heartbeat, Severity
from riskstream.streams import alerts as book_ops
from riskstream.streams.dedup import RecentIds
from riskstream.streams.registry import SiteRegistry
from riskstream.streams.rules import Rule, compile_rules
from riskstream.streams.rules.base import CLEAR, Finding, ts_ms

SiteState = dict[str, Any]
ACTION_ID_PREFIX = "action:"  # operator action ids share the recent-id index with event ids


@dataclass
class Result:
    alerts: list[Alert] = field(default_factory=list)
    duplicate: bool = False
    rejected: str | None = None
    silenced: bool = False  # from a device out of service or a point suppressed by design


class SiteProcessor:
    def __init__(self, cfg: Config) -> None:
        self.rules: list[Rule] = compile_rules(cfg)
        self.registry = SiteRegistry(cfg)
        self.recent = RecentIds(int(cfg.correlation.dedup_window_s * 1000))
        self._cooldowns = {r.name: r.options.cooldown_s for r in self.rules}
        self._escalate = {r.name: r.options.escalate_after_s for r in self.rules}
        self._update_interval = {r.name: r.options.update_interval_s for r in self.rules}
        self._options = {r.name: r.options for r in self.rules}
        self._max_shelve_s = cfg.correlation.max_shelve_s
        self._devices: dict[str, set[str]] = {}  # site -> devices an action may take out of service
        for site, dev in [(d.site, d.id) for d in cfg.sensors] + [
                (d.site, d.id) for d in cfg.cameras] + [(d.site, d.id) for d in cfg.assets]:
            self._devices.setdefault(site, set()).add(dev)
        self._points = {s.id: {p.id for p in s.risk_points} for s in cfg.sites}
        self._rule_class = {r.name: _rule_class(r.options, cfg) for r in self.rules}

    @staticmethod
    def new_state(site_id: str) -> SiteState:
        return {"site": site_id, "rules": {}, "book": book_ops.new_book(), "clock": None}

    @staticmethod
    def _advance(state: SiteState, event_ms: int, now_ms: int) -> SiteState:
        clock = state.get("clock")
        if clock is None or event_ms >= clock[0]:
            return {**state, "clock": [event_ms, now_ms]}
        return state

    @staticmethod
    def site_time(state: SiteState, now_ms: int, live: bool = True) -> int:
        """The site's event-time clock at wall time ``now_ms`` (see the module docstring)."""
        clock = state.get("clock")
        if clock is None:
            return now_ms
        return clock[0] + max(0, now_ms - clock[1]) if live else int(clock[0])

    def _normal(self, state: SiteState | None, site_id: str) -> SiteState:
        """A full state from a stored one (which may hold only its replay watermark)."""
        if state is None:
            return self.new_state(site_id)
        if "book" in state:
            return state
        return {**self.new_state(site_id), **state}

    def on_event(self, state: SiteState | None, event: Event, now_ms: int) -> tuple[SiteState, Result]:
        state = self._normal(state, event.site_id)
        if self.recent.seen(event.site_id, event.event_id):
            return state, Result(duplicate=True)
        self.recent.remember(event.site_id, event.event_id, now_ms)
        devices, points = book_ops.silenced(state["book"])
        if event.source_id in devices or (event.point_id or "") in points:
            # recorded (the store reads rs.events itself) but raises nothing
            return self._advance(state, ts_ms(event), now_ms), Result(silenced=True)
        # No enriched copy here: rules read the registry (site kind, district) directly, and
        # the store adds the registry's facts to the stored rows.
        rule_states, findings = self._run_rules(state, event)
        state = self._advance({**state, "rules": rule_states}, ts_ms(event), now_ms)
        klass = alarm_class(event)
        findings = [replace(f, attrs={**f.attrs, **stronger(self._rule_class[f.rule], klass)})
                    for f in findings]
        return self._apply_findings(state, findings, now_ms)

    def _run_rules(self, state: SiteState, event: Event) -> tuple[dict[str, Any], list[Finding]]:
        """Every applicable rule's new state for ``event``, and what they found."""
        findings: list[Finding] = []
        rule_states = dict(state["rules"])
        for rule in self._applicable(event.site_id):
            key = rule.key(event)
            if key is None:
                continue
            per_key = dict(rule_states.get(rule.name, {}))
            new, found = rule.on_event(per_key.get(key), event)
            _put(per_key, key, new)
            rule_states[rule.name] = per_key
            findings += found
        return rule_states, findings

    def on_heartbeat(self, state: SiteState | None, beat: Heartbeat,
                     now_ms: int) -> tuple[SiteState, Result]:
        """Heartbeats only feed silence detection; they never raise alerts by themselves, but
        may clear one (a silent device is back)."""
        event = Event(
            kind="device.heartbeat",
            site_id=beat.site_id,
            source_id=beat.source_id,
            ts=beat.ts,
            severity=Severity.INFO,
            score=0.0,
        )
        state = self._normal(state, beat.site_id)
        rule_states, found = self._run_rules(state, event)  # only clears: nothing matches it
        state = self._advance({**state, "rules": rule_states}, ts_ms(event), now_ms)
        return self._apply_findings(state, [f for f in found if f.attrs.get(CLEAR)], now_ms)

    def on_action(
        self, state: SiteState | None, action: AlertAction, now_ms: int
    ) -> tuple[SiteState, Result]:
        state = self._normal(state, action.site_id)
        action_key = ACTION_ID_PREFIX + action.action_id
        if self.recent.seen(action.site_id, action_key):  # the same action delivered twice
            return state, Result(duplicate=True)
        try:
            if action.action.on_target:
                self._check_target(action)
                site = self.registry.site(action.site_id)
                book, alert = book_ops.on_target_action(
                    state["book"], action, action.site_id, site.district if site else "", now_ms)
            else:
                book, alert = book_ops.on_action(state["book"], action, self._cooldowns, now_ms,
                                                 self._max_shelve_s)
        except book_ops.ActionRejected as exc:
            return state, Result(rejected=str(exc))
        self.recent.remember(action.site_id, action_key, now_ms)
        return {**state, "book": book}, Result(alerts=[alert])

    def _check_target(self, action: AlertAction) -> None:
        devices = action.action in (ActionKind.OUT_OF_SERVICE, ActionKind.RETURN_TO_SERVICE)
        known = (self._devices if devices else self._points).get(action.site_id, set())
        if action.target not in known:
            what = "device" if devices else "risk point"
            raise book_ops.ActionRejected(
                f"{what} {action.target!r} is not configured at site {action.site_id}")

    def on_tick(self, state: SiteState, now_ms: int,
                live: bool = True) -> tuple[SiteState | None, Result]:
        """``live``: the site's partition is caught up (see the module docstring)."""
        if "book" not in state:  # only a replay watermark: nothing to expire or escalate
            return None, Result()
        findings: list[Finding] = []
        rule_states: dict[str, Any] = {}
        site_now = self.site_time(state, now_ms, live)
        for rule in self.rules:
            per_key: dict[str, Any] = {}
            for key, st in state["rules"].get(rule.name, {}).items():
                new, found = rule.on_tick(st, site_now)
                _put(per_key, key, new)
                findings += found
            if per_key:
                rule_states[rule.name] = per_key
        state = {**state, "rules": rule_states}
        state.pop("seen", None)  # the id set states kept before streams/dedup.py
        state, result = self._apply_findings(state, findings, now_ms)
        book, escalated = book_ops.on_tick(
            state["book"], self._escalate, now_ms, self._update_interval, site_now
        )
        state = {**state, "book": book}
        result.alerts += escalated
        empty = not (state["rules"] or book["live"] or book["cooldown"])
        return (None if empty else state), result

    def _applicable(self, site_id: str) -> list[Rule]:
        site = self.registry.site(site_id)
        kind = site.kind.value if site else None
        return [r for r in self.rules if not r.options.site_kinds or kind in r.options.site_kinds]

    def _apply_findings(
        self, state: SiteState, findings: list[Finding], now_ms: int
    ) -> tuple[SiteState, Result]:
        result = Result()
        book = state["book"]
        site = self.registry.site(state["site"])
        district = site.district if site else ""
        devices, _ = book_ops.silenced(book)
        for finding in findings:
            if finding.attrs.get("device") in devices and not finding.attrs.get(CLEAR):
                continue  # a device out of service may be silent
            if finding.attrs.get(CLEAR):
                book, alert = book_ops.on_clear(book, finding, now_ms)
            else:
                book, alert = book_ops.on_finding(
                    book, finding, self._options[finding.rule], state["site"], district, now_ms
                )
            if alert is not None:
                result.alerts.append(alert)
        return {**state, "book": book}, result


def _rule_class(options: BaseModel, cfg: Config) -> dict[str, Any]:
    """The alarm class of a rule, from its severity and the metrics its matchers name (or the
    metrics of the sensors they name)."""
    by_metric = {s.metric: s.unit for s in cfg.sensors}
    by_source = {s.id: (s.metric, s.unit) for s in cfg.sensors}
    measured = []
    for m in _matchers(options):
        if m.metric is not None:
            measured.append((m.metric, by_metric.get(m.metric, "")))
        elif m.source_id in by_source:
            measured.append(by_source[m.source_id])
    severity = getattr(options, "severity", Severity.MAJOR)
    return rule_class(severity, measured)


def _matchers(value: Any) -> list[EventMatch]:
    if isinstance(value, EventMatch):
        return [value]
    if isinstance(value, BaseModel):
        return [m for name in type(value).model_fields for m in _matchers(getattr(value, name))]
    if isinstance(value, list | tuple):
        return [m for item in value for m in _matchers(item)]
    return []


def _put(per_key: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        per_key.pop(key, None)
    else:
        per_key[key] = value
