"""Count and spread: how many matching events, or from how many places, within a window."""

from __future__ import annotations

from riskstream.config.rules import CountRule, SpreadRule
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

MAX_IDS = 100


class _Windowed:
    """Keeps the matching sightings of one scope within a sliding window."""

    def __init__(self, options: CountRule | SpreadRule) -> None:
        self.name = options.name
        self.options = options
        self._window_ms = int(options.window_s * 1000)

    def key(self, event: Event) -> str | None:
        if not matches(self.options.match, event):
            return None
        return scope_key(self.options.scope, event)

    def _hits(self, state: State | None, event: Event) -> list[Sighting]:
        hits = insert_sorted((state or {}).get("hits", []), sighting(event))
        return prune(hits, ts_ms(event) - self._window_ms)

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]:
        if not state:
            return None, []
        hits = prune(state["hits"], now_ms - self._window_ms)
        return ({"hits": hits} if hits else None), []


class Count(_Windowed):
    options: CountRule

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        if event.attrs.get("phase") == "update":  # the incident's start was counted already
            return state, []
        hits = self._hits(state, event)
        o = self.options
        if len(hits) < o.threshold:
            return {"hits": hits}, []
        key = scope_key(o.scope, event) or "site"
        text = (f"{o.name}: {len(hits)} x {label(o.match)} within {window_text(o.window_s)} at "
                f"{event.site_id} {o.scope} {key} (threshold {o.threshold}); latest: {hits[-1][4]}")
        finding = Finding(o.name, key, tuple(str(h[1]) for h in hits[-MAX_IDS:]), int(hits[0][0]),
                          int(hits[-1][0]), text,
                          {"count": len(hits), "threshold": o.threshold, "window_s": o.window_s})
        return {"hits": hits}, [finding]


class Spread(_Windowed):
    options: SpreadRule

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        hits = self._hits(state, event)
        o = self.options
        column = 3 if o.distinct == "point_id" else 2
        latest: dict[str, Sighting] = {}
        for h in hits:
            if h[column] is not None:
                latest[h[column]] = h
        if len(latest) < o.min_points:
            return {"hits": hits}, []
        key = scope_key(o.scope, event) or "site"
        places = sorted(str(p) for p in latest)
        text = (f"{o.name}: {label(o.match)} at {len(places)} places ({', '.join(places)}) within "
                f"{window_text(o.window_s)} at {event.site_id}"
                + ("" if key == "site" else f" zone {key}"))
        chosen = sorted(latest.values(), key=lambda h: h[0])
        finding = Finding(o.name, key, tuple(str(h[1]) for h in chosen), int(chosen[0][0]),
                          int(chosen[-1][0]), text,
                          {"places": places, "min_points": o.min_points, "window_s": o.window_s})
        return {"hits": hits}, [finding]
