"""Alarm KPIs (EEMUA 191 / ISA-18.2) on hand-made activations: rates, floods, top sources,
chattering, stale and standing lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from riskstream.alarms import kpi
from riskstream.events import Alert, AlertStatus, Lifecycle, Severity

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: float, source: str = "s/r/a", district: str = "binhai") -> kpi.Activation:
    return kpi.Activation(source, district, T0 + timedelta(minutes=minutes))


def test_rate_and_a_flood_that_starts_above_10_and_ends_below_5() -> None:
    acts = [at(m / 2, source=f"s/r/{m}") for m in range(12)]  # 12 alarms in 5.5 min
    k = kpi.compute(acts, [], T0, T0 + timedelta(hours=1))
    assert k.alarms == 12 and k.per_10min_peak == 12
    assert abs(k.per_10min_mean - 2.0) < 1e-9  # 12 in 60 min
    (flood,) = k.floods
    assert flood[0] == T0 + timedelta(minutes=5)  # the 11th alarm in 10 min
    # ends when the 8th alarm (5th most recent) is 10 min old: 3.5 + 10 min
    assert flood[1] == T0 + timedelta(minutes=13.5) and flood[2] == 12
    assert abs(k.flood_share - 8.5 / 60) < 1e-9


def test_ten_in_ten_minutes_is_not_a_flood() -> None:
    acts = [at(m) for m in range(10)]
    assert kpi.compute(acts, [], T0, T0 + timedelta(hours=1)).floods == []


def test_top_sources_and_chattering() -> None:
    acts = sorted([at(0, "s/r/bad"), at(0.3, "s/r/bad"), at(0.6, "s/r/bad"),
                   *[at(5 + m, f"s/r/{m}") for m in range(11)]], key=lambda a: a.at)
    k = kpi.compute(acts, [], T0, T0 + timedelta(hours=1))
    assert k.top10[0] == ("s/r/bad", 3) and abs(k.top10_share - 12 / 14) < 1e-9
    assert k.chattering == [("s/r/bad", 3)]


def alert(aid: str, status: AlertStatus, opened_h: float, district: str = "binhai",
          **attrs: str) -> Alert:
    t = T0 + timedelta(hours=opened_h)
    return Alert(alert_id=aid, rule="r", site_id="s", district=district, severity=Severity.MAJOR,
                 first_ts=t, last_ts=t, event_ids=(), explanation="x", status=status,
                 attrs={"key": aid, **attrs}, lifecycle=Lifecycle(opened_at=t))


def test_stale_and_standing_lists_per_district() -> None:
    current = [alert("old", AlertStatus.OPEN, 0), alert("new", AlertStatus.OPEN, 30),
               alert("sh", AlertStatus.SHELVED, 30, "xicheng"),
               alert("oos", AlertStatus.OUT_OF_SERVICE, 0, target="gas-1")]
    by = kpi.per_district(kpi.activations(current), current, T0, T0 + timedelta(hours=31))
    assert by["city"].stale == ["old"] and by["city"].out_of_service == ["gas-1"]
    assert by["binhai"].shelved == [] and by["xicheng"].shelved == ["sh"]
    assert by["city"].alarms == 3  # the condition record is no alarm
