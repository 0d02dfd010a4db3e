"""Co-occurrence: every step matched within one window in one scope, in any order."""

from __future__ import annotations

from riskstream.config.rules import CoOccurrenceRule
from riskstream.events import Event
from riskstream.streams.rules.base import (
    Finding,
    Sighting,
    State,
    insert_sorted,
    label,
    matches,
    prune,
    scope_key,
    sighting,
    ts_ms,
    window_text,
)


class CoOccurrence:
    def __init__(self, options: CoOccurrenceRule) -> None:
        self.name = options.name
        self.options = options
        self._window_ms = int(options.window_s * 1000)

    def key(self, event: Event) -> str | None:
        if not any(matches(step, event) for step in self.options.all_of):
            return None
        return scope_key(self.options.scope, event)

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        steps: list[list[Sighting]] = (state or {}).get("steps") or [[] for _ in self.options.all_of]
        now = ts_ms(event)
        for i, step in enumerate(self.options.all_of):
            if matches(step, event):
                steps[i] = insert_sorted(steps[i], sighting(event))
        steps = [prune(s, now - self._window_ms) for s in steps]
        found = self._satisfy(steps)
        new_state = {"steps": steps} if any(steps) else None
        if found is None:
            return new_state, []
        return new_state, [self._finding(event, found)]

    def _satisfy(self, steps: list[list[Sighting]]) -> list[Sighting] | None:
        """Latest sighting per step, from different devices if required, all within the window."""
        chosen: list[Sighting] = []
        used: set[str] = set()
        for candidates in steps:
            pick = next((s for s in reversed(candidates)
                         if not (self.options.distinct_sources and s[2] in used)), None)
            if pick is None:
                return None
            chosen.append(pick)
            used.add(pick[2])
        times = [s[0] for s in chosen]
        return chosen if max(times) - min(times) <= self._window_ms else None

    def _finding(self, event: Event, chosen: list[Sighting]) -> Finding:
        o = self.options
        key = scope_key(o.scope, event) or "site"
        parts = [f"{label(step)} ({s[4]})" for step, s in zip(o.all_of, chosen, strict=True)]
        text = (f"{o.name}: " + " and ".join(parts)
                + f" within {window_text(o.window_s)} at {event.site_id}"
                + ("" if key == "site" else f" {o.scope} {key}"))
        return Finding(o.name, key, tuple(s[1] for s in chosen), min(s[0] for s in chosen),
                       max(s[0] for s in chosen), text,
                       {"window_s": o.window_s, "scope": o.scope, "steps": [label(s) for s in o.all_of]})

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]:
        if not state:
            return None, []
        steps = [prune(s, now_ms - self._window_ms) for s in state["steps"]]
        return ({"steps": steps} if any(steps) else None), []
