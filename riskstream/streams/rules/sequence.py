"""Sequence: steps matched in order (A then B ...), the last within ``within_s`` of the first."""

from __future__ import annotations

from riskstream.config.rules import SequenceRule
from riskstream.events import Event
from riskstream.streams.rules.base import (
    Finding,
    Sighting,
    State,
    label,
    matches,
    scope_key,
    sighting,
    ts_ms,
    window_text,
)

MAX_PARTIALS = 50


class Sequence:
    def __init__(self, options: SequenceRule) -> None:
        self.name = options.name
        self.options = options
        self._within_ms = int(options.within_s * 1000)

    def key(self, event: Event) -> str | None:
        if not any(matches(step, event) for step in self.options.steps):
            return None
        return scope_key(self.options.scope, event)

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        now = ts_ms(event)
        steps = self.options.steps
        partials: list[list[Sighting]] = [
            p for p in (state or {}).get("partials", []) if now - p[0][0] <= self._within_ms
        ]
        found: list[Finding] = []
        grown: list[list[Sighting]] = []
        for partial in partials:
            nxt = steps[len(partial)]
            if matches(nxt, event) and now >= partial[-1][0]:
                longer = [*partial, sighting(event)]
                if len(longer) == len(steps):
                    found.append(self._finding(event, longer))
                else:
                    grown.append(longer)
        partials = [p for p in partials if not found] + grown  # a completed chain consumes all
        if matches(steps[0], event):
            partials.append([sighting(event)])
        partials = partials[-MAX_PARTIALS:]
        return ({"partials": partials} if partials else None), found[:1]

    def _finding(self, event: Event, chain: list[Sighting]) -> Finding:
        o = self.options
        key = scope_key(o.scope, event) or "site"
        parts = [f"{label(step)} ({s[4]})" for step, s in zip(o.steps, chain, strict=True)]
        text = (f"{o.name}: " + " then ".join(parts) + f" within {window_text(o.within_s)} at "
                f"{event.site_id}" + ("" if key == "site" else f" {o.scope} {key}"))
        return Finding(o.name, key, tuple(s[1] for s in chain), chain[0][0], chain[-1][0], text,
                       {"within_s": o.within_s, "scope": o.scope})

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]:
        if not state:
            return None, []
        partials = [p for p in state["partials"] if now_ms - p[0][0] <= self._within_ms]
        return ({"partials": partials} if partials else None), []
