"""Alarm-system health figures after EEMUA 191 / ISA-18.2 (pure).

* alarms per 10 minutes (mean and peak): ~1 is acceptable per operator position, ~2 manageable;
* floods: a flood starts when more than 10 alarms arrived in the last 10 minutes and ends when
  fewer than 5 did; reported as periods and as the share of time in flood;
* the top-10 sources' share of all alarms (a few bad actors should not dominate);
* chattering: a source raising 3 or more alarms within 60 s;
* stale: live alarms older than 24 h; and the standing shelved / out-of-service / suppressed
  lists.

An *alarm* here is an activation: an alert's first revision. Its *source* is its site, rule and
scope (``attrs.key``): the alarm point in ISA-18.2 terms.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from riskstream.events import Alert, AlertStatus

WINDOW = timedelta(minutes=10)
FLOOD_STARTS_ABOVE = 10
FLOOD_ENDS_BELOW = 5
CHATTER_COUNT, CHATTER_WINDOW = 3, timedelta(seconds=60)
STALE_AFTER = timedelta(hours=24)


@dataclass(frozen=True)
class Activation:
    source: str
    district: str
    at: datetime


@dataclass
class Kpis:
    scope: str  # a district, or "city"
    alarms: int
    per_10min_mean: float
    per_10min_peak: int
    floods: list[tuple[datetime, datetime, int]] = field(default_factory=list)
    flood_share: float = 0.0  # of the period's time
    top10_share: float = 0.0
    top10: list[tuple[str, int]] = field(default_factory=list)
    chattering: list[tuple[str, int]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    shelved: list[str] = field(default_factory=list)
    out_of_service: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)


def source_of(alert: Alert) -> str:
    return f"{alert.site_id}/{alert.rule}/{alert.attrs.get('key', '')}"


def activations(alerts: Iterable[Alert]) -> list[Activation]:
    """The activations among alert revisions (first revisions, condition records left out)."""
    return sorted((Activation(source_of(a), a.district, a.lifecycle.opened_at or a.first_ts)
                   for a in alerts if a.revision == 1 and a.status not in _CONDITIONS),
                  key=lambda x: x.at)


_CONDITIONS = (AlertStatus.OUT_OF_SERVICE, AlertStatus.SUPPRESSED)


def compute(acts: Sequence[Activation], current: Sequence[Alert], start: datetime, end: datetime,
            scope: str = "city") -> Kpis:
    """The figures of one scope over [start, end); ``current``: the latest revision of each
    alert in scope (for stale alarms and the standing lists)."""
    times = [a.at for a in acts if start <= a.at < end]
    period = max((end - start).total_seconds(), 1.0)
    counts = _trailing_counts(times)
    floods = _floods(times, counts, end)
    flood_time = sum((b - a).total_seconds() for a, b, _ in floods)
    by_source = Counter(a.source for a in acts if start <= a.at < end)
    top = by_source.most_common(10)
    live = [a for a in current if a.status is not AlertStatus.RESOLVED]
    return Kpis(
        scope=scope, alarms=len(times),
        per_10min_mean=len(times) / (period / WINDOW.total_seconds()),
        per_10min_peak=max(counts, default=0),
        floods=floods, flood_share=min(flood_time / period, 1.0),
        top10_share=sum(n for _, n in top) / len(times) if times else 0.0, top10=top,
        chattering=_chattering([a for a in acts if start <= a.at < end]),
        stale=sorted(a.alert_id for a in live if a.status not in _CONDITIONS
                     and end - (a.lifecycle.opened_at or a.first_ts) > STALE_AFTER),
        shelved=sorted(a.alert_id for a in live if a.status is AlertStatus.SHELVED),
        out_of_service=sorted(str(a.attrs.get("target", a.alert_id)) for a in live
                              if a.status is AlertStatus.OUT_OF_SERVICE),
        suppressed=sorted(str(a.attrs.get("target", a.alert_id)) for a in live
                          if a.status is AlertStatus.SUPPRESSED),
    )


def per_district(acts: Sequence[Activation], current: Sequence[Alert], start: datetime,
                 end: datetime) -> dict[str, Kpis]:
    """City-wide figures under "city" and each district's under its name."""
    out = {"city": compute(acts, current, start, end)}
    acts_by: dict[str, list[Activation]] = defaultdict(list)
    for a in acts:
        acts_by[a.district].append(a)
    current_by: dict[str, list[Alert]] = defaultdict(list)
    for alert in current:
        current_by[alert.district].append(alert)
    for district in sorted(set(acts_by) | set(current_by)):
        out[district] = compute(acts_by[district], current_by[district], start, end, district)
    return out


def _trailing_counts(times: Sequence[datetime]) -> list[int]:
    """For each alarm, how many arrived in the 10 minutes up to and including it."""
    counts, lo = [], 0
    for hi, t in enumerate(times):
        while times[lo] <= t - WINDOW:
            lo += 1
        counts.append(hi - lo + 1)
    return counts


def _floods(times: Sequence[datetime], counts: Sequence[int],
            end: datetime) -> list[tuple[datetime, datetime, int]]:
    """Flood periods (start, end, peak count in 10 min). Between alarms the trailing count
    only falls, as alarms age out: with ``times[j]`` the latest alarm, fewer than 5 remain once
    ``times[j - 4]`` is 10 minutes old, unless a new alarm came first."""
    floods: list[tuple[datetime, datetime, int]] = []
    i = 0
    while i < len(times):
        if counts[i] <= FLOOD_STARTS_ABOVE:
            i += 1
            continue
        j, peak = i, counts[i]
        while True:
            ends_at = times[j - FLOOD_ENDS_BELOW + 1] + WINDOW
            if j + 1 < len(times) and times[j + 1] < ends_at:
                j += 1
                peak = max(peak, counts[j])
                continue
            break
        floods.append((times[i], min(ends_at, end), peak))
        i = j + 1
    return floods


def _chattering(acts: Sequence[Activation]) -> list[tuple[str, int]]:
    by_source: dict[str, list[datetime]] = defaultdict(list)
    for a in acts:
        by_source[a.source].append(a.at)
    out = []
    for source, times in by_source.items():
        worst, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] < t - CHATTER_WINDOW:
                lo += 1
            worst = max(worst, hi - lo + 1)
        if worst >= CHATTER_COUNT:
            out.append((source, worst))
    return sorted(out, key=lambda x: -x[1])
