"""The tamper evaluation's parts on generated footage: each tamper changes what it claims to,
the analyser path and the video-loss baseline fire where they should, and scoring counts
detections after the onset and false ones before it."""

from __future__ import annotations

import numpy as np

from riskstream.evaluation import tamper


def scene(n: int = 120, seed: int = 0) -> list[np.ndarray]:
    """A textured still scene with a bright square walking across it (something moving)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(60, 200, (120, 160, 3), dtype=np.uint8)
    frames = []
    for i in range(n):
        f = base.copy()
        x = (i * 2) % 140
        f[50:70, x:x + 20] = 250
        frames.append(f)
    return frames


def test_each_tamper_does_what_it_says() -> None:
    frames = scene()
    onset = 60
    out = {k: list(tamper.tampered(frames, k, onset)) for k in tamper.KINDS}
    for k in tamper.KINDS:
        assert all(np.array_equal(a, b) for a, b in zip(out[k][:onset], frames[:onset], strict=True))
    assert max(float(f.mean()) for f in out["covered"][onset:]) < 20
    assert np.var(out["defocused"][onset].astype(float)) < 0.5 * np.var(frames[onset].astype(float))
    assert not np.array_equal(out["view_shifted"][onset], frames[onset])
    assert all(np.array_equal(f, frames[onset]) for f in out["frozen"][onset:])


def test_the_analyser_path_detects_a_covered_lens_after_the_onset_only() -> None:
    frames = scene()
    assert tamper.analyser_starts(iter(frames)) == []  # untouched: no false alarm
    starts = tamper.analyser_starts(tamper.tampered(frames, "covered", 60))
    assert starts and starts[0] >= 60


def test_the_baseline_sees_video_loss_but_not_defocus() -> None:
    frames = scene()
    assert tamper.baseline_starts(tamper.tampered(frames, "covered", 60)) == [60]
    assert tamper.baseline_starts(tamper.tampered(frames, "frozen", 60)) == [60 + 30]
    assert tamper.baseline_starts(tamper.tampered(frames, "defocused", 60)) == []


def test_scoring_splits_detections_and_false_alarms_at_the_onset() -> None:
    assert tamper._score([10, 75, 90], 60) == (1.5, 1)
    assert tamper._score([10], 60) == (None, 1)
