"""The workers' Faust transport: Faust's aiokafka consumer with a short fetch long-poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

from riskstream.config import load
from riskstream.streams.app import create_app
from riskstream.streams.transport import FETCH_MAX_WAIT_MS, Transport

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_consumer_long_polls_briefly(tmp_path: Path) -> None:
    async def build() -> int:
        cfg = load(REPO / "config" / "demo.yaml", environ={})
        app = create_app(cfg, "correlate", tmp_path)
        # the broker URL's scheme finds the transport through the faust.transports entry point
        assert isinstance(app.transport, Transport)
        consumer = app.consumer._new_consumer_thread()._create_worker_consumer(app.transport)
        try:
            return int(consumer._fetch_max_wait_ms)  # Faust's own value is 1500
        finally:
            await consumer.stop()  # never started: only releases what the constructor made

    assert asyncio.run(build()) == FETCH_MAX_WAIT_MS <= 100


def _commit_state(acked: list[int], committed: int | None, gaps: list[tuple[int, int]] = ()
                  ) -> object:
    """A stand-in for Faust's consumer holding only the fields its commit rule reads (for one
    partition ``tp``): the rule is pure logic; the real consumer runs in the integration tests
    (two workers, SIGKILL) and the scaling benchmark."""
    from collections import defaultdict
    from types import SimpleNamespace

    from intervaltree import IntervalTree

    tree = IntervalTree()
    for begin, end in gaps:
        tree.addi(begin, end)
    return SimpleNamespace(_acked={"tp": list(acked)}, _acked_index={"tp": set(acked)},
                           _gap=defaultdict(IntervalTree, {"tp": tree}),
                           _committed_offset={"tp": committed})


def test_commit_offset_with_duplicated_acks_reaches_the_first_hole() -> None:
    """After a rebalance Faust's acked list held duplicates and committed ~1 offset per commit;
    the rule on the set of offsets commits the whole run at once."""
    from riskstream.streams.transport import _Consumer

    state = _commit_state([190, 190, 191, 191, 192, 193, 193, 194, 197], committed=190)
    assert _Consumer._new_offset(state, "tp") == 195  # type: ignore[arg-type]
    assert state._acked["tp"] == [197] and state._acked_index["tp"] == {197}  # type: ignore[attr-defined]


def test_commit_offset_never_counts_a_jump_as_done_and_waits_at_a_head_hole() -> None:
    """A jump in fetched offsets (a stale prefetched record after a rebalance) once made Faust
    commit past records nobody processed (the fault runner lost 215 events that way)."""
    from riskstream.streams.transport import _Consumer

    state = _commit_state([10, 11, 15, 16], committed=10, gaps=[(12, 15)])
    assert _Consumer._new_offset(state, "tp") == 12  # up to the hole, not past it
    assert state._acked["tp"] == [15, 16]  # type: ignore[attr-defined]
    # acked starts two past the committed offset: something in between is not done yet
    assert _Consumer._new_offset(_commit_state([13, 14], committed=10), "tp") is None  # type: ignore[arg-type]
    assert _Consumer._new_offset(_commit_state([], committed=10), "tp") is None  # type: ignore[arg-type]


def test_a_skipped_stale_record_is_not_acked_for_commit() -> None:
    from types import SimpleNamespace

    from riskstream.streams.transport import _Consumer

    consumer = SimpleNamespace(app=SimpleNamespace(consumer_generation_id=7))
    stale = SimpleNamespace(generation_id=6, acked=False)
    assert _Consumer.ack(consumer, stale) is False and stale.acked  # type: ignore[arg-type]
