"""Count and spread: how many matching events, or from how many places, within a window.

Both run on every matching event, often thousands a second at a busy site, and their state is
written back once per site and batch, so it is kept small and exact:

* count keeps the times of the newest ``threshold`` matches only (``threshold`` matches lie
  within the window exactly when the oldest of the newest ``threshold`` does) and the ids of
  the newest :data:`MAX_IDS` as evidence;
* spread keeps the newest sighting per distinct place.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any

from riskstream.config.rules import CountRule, SpreadRule
from riskstream.events import Event
from riskstream.streams.rules.base import (
    Finding,
    State,
    describe,
    label,
    matches,
    scope_key,
    ts_ms,
    window_text,
)

MAX_IDS = 100


class _Windowed:
    def __init__(self, options: CountRule | SpreadRule) -> None:
        self.name = options.name
        self.options = options
        self._window_ms = int(options.window_s * 1000)

    def key(self, event: Event) -> str | None:
        if not matches(self.options.match, event):
            return None
        return scope_key(self.options.scope, event)


class Count(_Windowed):
    options: CountRule

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        if event.attrs.get("phase") == "update":  # the incident's start was counted already
            return state, []
        o = self.options
        at = ts_ms(event)
        times = _newest(state, "times", at, o.threshold)
        ids = _newest(state, "ids", [at, event.event_id], MAX_IDS)
        start = bisect_left(times, times[-1] - self._window_ms)
        times = times[start:]
        new = {"times": times, "ids": _since(ids, times[0])}
        if len(times) < o.threshold:
            return new, []
        key = scope_key(o.scope, event) or "site"
        text = (f"{o.name}: {len(times)} x {label(o.match)} within {window_text(o.window_s)} at "
                f"{event.site_id} {o.scope} {key} (threshold {o.threshold}); last: "
                f"{describe(event)}")
        finding = Finding(o.name, key, tuple(i[1] for i in new["ids"]), times[0], times[-1], text,
                          {"count": len(times), "threshold": o.threshold, "window_s": o.window_s})
        return new, [finding]

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]:
        if not state:
            return None, []
        # .get: a state written before this layout (its "hits") simply starts afresh
        old = state.get("times", [])
        times = old[bisect_left(old, now_ms - self._window_ms):]
        if not times:
            return None, []
        return {"times": times, "ids": _since(state.get("ids", []), times[0])}, []


class Spread(_Windowed):
    options: SpreadRule

    def on_event(self, state: State | None, event: Event) -> tuple[State | None, list[Finding]]:
        o = self.options
        place = event.point_id if o.distinct == "point_id" else event.source_id
        places: dict[str, list[Any]] = dict((state or {}).get("places", {}))  # place: [ms, id]
        at = ts_ms(event)
        if place is not None and (place not in places or places[place][0] <= at):
            places[place] = [at, event.event_id]
        newest = max((p[0] for p in places.values()), default=at)
        places = {k: v for k, v in places.items() if v[0] >= newest - self._window_ms}
        new = {"places": places} if places else None
        if len(places) < o.min_points:
            return new, []
        key = scope_key(o.scope, event) or "site"
        names = sorted(places)
        text = (f"{o.name}: {label(o.match)} at {len(names)} places ({', '.join(names)}) within "
                f"{window_text(o.window_s)} at {event.site_id}"
                + ("" if key == "site" else f" zone {key}"))
        chosen = sorted(places.values(), key=lambda p: int(p[0]))
        finding = Finding(o.name, key, tuple(str(p[1]) for p in chosen), int(chosen[0][0]),
                          int(chosen[-1][0]), text,
                          {"places": names, "min_points": o.min_points, "window_s": o.window_s})
        return new, [finding]

    def on_tick(self, state: State | None, now_ms: int) -> tuple[State | None, list[Finding]]:
        if not state:
            return None, []
        places = {k: v for k, v in state.get("places", {}).items()
                  if v[0] >= now_ms - self._window_ms}
        return ({"places": places} if places else None), []


def _newest(state: State | None, name: str, item: Any, keep: int) -> list[Any]:
    """``state[name]`` (sorted) with ``item`` inserted in order, newest ``keep`` kept."""
    values: list[Any] = list((state or {}).get(name, ()))
    if not values or values[-1] <= item:
        values.append(item)
    else:  # a late event lands where it belongs
        insort(values, item)
    return values[-keep:]


def _since(ids: list[Any], oldest_ms: int) -> list[Any]:
    """The ``[ms, id]`` entries (time-sorted) not older than ``oldest_ms``."""
    return ids[bisect_left(ids, oldest_ms, key=lambda i: i[0]):]
