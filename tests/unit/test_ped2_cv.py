"""The Ped2 settings cross-validation on generated footage: the pasted objects move as stated,
and the protocol ranks every candidate and refuses too few clips."""

from __future__ import annotations

import numpy as np
import pytest

from riskstream.evaluation import ped2_cv


def clip(seed: int, n: int = 90) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(80, 160, (240, 360), dtype=np.uint8)
    return [np.clip(base + rng.normal(0, 2, base.shape), 0, 255).astype(np.uint8) for _ in range(n)]


def test_a_pasted_object_moves_at_its_speed() -> None:
    frames = clip(0, 5)
    out = ped2_cv.paste_object(frames, "cyclist", seed=1)
    cols = [np.flatnonzero(np.abs(o.astype(int) - f.astype(int)).max(axis=0) > 40) for o, f in
            zip(out, frames, strict=True)]
    starts = [int(c[0]) for c in cols]
    assert np.diff(starts).tolist() == [ped2_cv.OBJECTS["cyclist"][2]] * 4


def test_every_candidate_is_scored_and_the_best_is_chosen() -> None:
    cv = ped2_cv.cross_validate([clip(s) for s in range(4)])
    table = cv["candidates"]
    assert len(table) == len(ped2_cv.CELLS) * len(ped2_cv.TOP_K)
    best = max(r["mean_auc"] for r in table.values())
    assert cv["chosen"]["mean_auc"] == best
    assert best > 90  # objects in a still noisy scene are easy: the protocol can tell


def test_too_few_clips_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        ped2_cv.cross_validate([clip(0)])
