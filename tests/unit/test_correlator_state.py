"""The correlator's stored per-site state: what an unreadable record does (no Kafka)."""

from __future__ import annotations

import pytest

from riskstream.streams import metrics
from riskstream.streams.correlator_core import dump_state as _dump
from riskstream.streams.correlator_core import load_state as _load


def test_state_round_trip() -> None:
    state = {"site": "plant", "rules": {}, "applied": {"rs.events/0": 4}}
    assert _load(_dump(state), "plant") == state
    assert _load(None) is None and _load(b"") is None


@pytest.mark.parametrize("raw", [b"{broken", b"[1, 2]", b"\xff"])
def test_an_unreadable_state_starts_the_site_afresh_and_is_counted(
    raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    counter = metrics.SKIPPED.labels("unreadable site state")
    before = counter._value.get()
    assert _load(raw, "plant") is None
    assert counter._value.get() == before + 1
    assert "site plant: stored correlation state unreadable" in caplog.text
