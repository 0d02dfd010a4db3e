"""Absence: a device of the site has gone silent while the site is alarming.

Every event and heartbeat of a device counts as a sign of life. A silent device is only a
finding while an alarming event is recent: a dead gas detector next to a leak matters; one
on a quiet night is the health monitor's job. Only devices heard from at least once are
watched (one never commissioned has not *gone* silent), and when a device found silent
reports again its finding is cleared (a :data:`CLEAR` finding: the alert is resolved by the
system with that reason).
"""

from __future__ import annotations

from collections.abc import Mapping

from riskstream.config.rules import AbsenceRule
from riskstream.events import Event
from riskstream.streams.rules.base import CLEAR, Finding, State, matches, ts_ms, window_text

MAX_ALARM_IDS = 20


class Absence:
    def __init__(self, options: AbsenceRule, devices_by_site: Mapping[str, list[str]]) -> None:
        self.name = options.name
        self.options = options
        self._devices = devices_by_site
        self._silent_ms = int(options.silent_s * 1000)
        self._alarm_ms = int(options.alarming_window_s * 1000)

    def key(self, event: Event) -> str | None:
        return "site"

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        now = ts_ms(event)
        st: State = state or {"site": event.site_id, "since": now, "seen": {}, "alarm": []}
        seen = dict(st["seen"])
        seen[event.source_id] = max(now, seen.get(event.source_id, 0))
        alarm = [a for a in st["alarm"] if a[0] >= now - self._alarm_ms]
        if matches(self.options.alarming, event):
            alarm = [*alarm, [now, event.event_id, event.source_id]][-MAX_ALARM_IDS:]
        flagged = list(st.get("flagged", []))
        cleared = []
        if event.source_id in flagged:
            flagged.remove(event.source_id)
            cleared.append(Finding(
                self.name, f"device {event.source_id}", (), now, now,
                f"{self.name}: {event.source_id} reported again", {CLEAR: True}))
        return {**st, "seen": seen, "alarm": alarm, "flagged": flagged}, cleared

    def _watched(self, site: str) -> list[str]:
        return self.options.devices or list(self._devices.get(site, []))

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]:
        if not state:
            return None, []
        alarm = [a for a in state["alarm"] if a[0] >= now_ms - self._alarm_ms]
        state = {**state, "alarm": alarm}
        if not alarm:
            return state, []
        alarming_sources = {a[2] for a in alarm}
        findings = []
        o = self.options
        flagged = set(state.get("flagged", []))
        for device in self._watched(state["site"]):
            last = state["seen"].get(device)
            if device in alarming_sources or last is None:
                continue
            silent_for = now_ms - last
            if silent_for < self._silent_ms:
                continue
            flagged.add(device)
            heard = f"silent for {silent_for / 1000:.0f} s"
            text = (f"{o.name}: {device} {heard} (limit {window_text(o.silent_s)}) while "
                    f"{state['site']} is alarming ({len(alarm)} alarming events in the last "
                    f"{window_text(o.alarming_window_s)}, latest from {alarm[-1][2]})")
            findings.append(Finding(
                o.name, f"device {device}", tuple(a[1] for a in alarm),
                alarm[0][0], max(alarm[-1][0], now_ms), text,
                {"device": device, "silent_s": silent_for / 1000, "limit_s": o.silent_s},
            ))
        return {**state, "flagged": sorted(flagged)}, findings
