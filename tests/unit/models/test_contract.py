"""One contract every detector passes: scores in [0, 1], warmup, clear errors on bad input,
online detectors never learn from what they flag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter

from riskstream.detectors import Context, DetectorSpec, build
from riskstream.models.base import Detector, DetectorInputError, OnlineDetector
from riskstream.models.sensor_rules import Sample
from riskstream.models.streaming import KnnLikelihood, WindowedGaussian
from riskstream.models.thresholding import run_online

from .synthetic import noisy, textured_scene

SPEC = TypeAdapter(DetectorSpec)
RNG = np.random.default_rng(1)
SCENE = textured_scene()


def _samples(n: int = 60) -> list[Sample]:
    return [Sample(float(i), float(20 + np.sin(i / 5))) for i in range(n)]


def _frames(n: int = 40) -> list[np.ndarray]:
    return [noisy(SCENE, RNG) for _ in range(n)]


def _skab_rows(n: int = 30) -> list[np.ndarray]:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.card import load_card

    card = load_card(resolve_model("sensor-skab@2"))
    mean, std = np.array(card.preprocessing.mean), np.array(card.preprocessing.std)
    return [(mean + std * RNG.normal(0, 1, len(mean))).astype(np.float32) for _ in range(n)]


# (spec, good inputs, a bad input)
CASES: dict[str, tuple[dict[str, Any], Callable[[], list[Any]], Any]] = {
    "level": (
        {"type": "level", "thresholds": {"warning": 25, "alarm": 50}},
        _samples,
        Sample(0.0, float("nan")),
    ),
    "rate": ({"type": "rate", "max_per_s": 1.0}, _samples, "12"),
    "stuck": ({"type": "stuck", "window_s": 10, "min_change": 0.01}, _samples, Sample(float("inf"), 1.0)),
    "range": ({"type": "range", "min": 0, "max": 100}, _samples, None),
    "silence": ({"type": "silence", "timeout_s": 30}, lambda: [float(i) for i in range(50)], float("nan")),
    "knn_likelihood": (
        {"type": "knn_likelihood"},
        lambda: [float(np.sin(i / 4)) for i in range(400)],
        float("nan"),
    ),
    "window_model": ({"type": "window_model", "model": "sensor-skab@2"}, _skab_rows, np.zeros(3)),
    "scene_model": ({"type": "scene_model", "model": "scene-ped2@3"}, _frames, np.zeros((4, 4, 3), np.uint8)),
    "zone_motion": ({"type": "zone_motion"}, _frames, np.zeros((240, 320), np.float32)),
    "tamper": ({"type": "tamper"}, _frames, np.zeros((240, 320, 4), np.uint8)),
    "fall": ({"type": "fall"}, _frames, "not a frame"),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[Detector, list[Any], Any]:
    spec, inputs, bad = CASES[request.param]
    return build(SPEC.validate_python(spec), Context(fps=10.0)), inputs(), bad


def test_scores_are_in_unit_interval(case: tuple[Detector, list[Any], Any]) -> None:
    detector, inputs, _ = case
    detector.warmup()
    scores = [detector.score(x) for x in inputs]
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)
    assert isinstance(detector.name, str) and detector.name


def test_bad_input_is_a_clear_error(case: tuple[Detector, list[Any], Any]) -> None:
    detector, _, bad = case
    with pytest.raises(DetectorInputError):
        detector.score(bad)


def test_every_spec_type_has_a_contract_case() -> None:
    types = {member.model_fields["type"].default for member in DetectorSpec.__origin__.__args__}  # type: ignore[attr-defined]
    assert types == set(CASES)


@pytest.mark.parametrize("make", [KnnLikelihood, WindowedGaussian])
def test_online_detectors_follow_the_protocol(make: Callable[[], OnlineDetector]) -> None:
    assert isinstance(make(), OnlineDetector)


def test_flagged_points_are_not_learned() -> None:
    """A spike the detector flagged must still look anomalous when it comes straight back."""
    series = [float(np.sin(i / 3)) for i in range(600)]
    flagged_at: list[int] = []

    def flag(s: float) -> bool:
        return s >= 0.5

    learner, forgetter = KnnLikelihood(quarantine=1000), KnnLikelihood(quarantine=1000)
    spike = [*series, 9.0, 9.0, 9.0, *series[:30], 9.0, 9.0, 9.0]
    a = run_online(learner, spike, flag)
    # The same detector fed everything as normal (no gating) learns the spike's sub-sequence.
    b = []
    for x in spike:
        b.append(forgetter.score(x))
        forgetter.learn(x)
    flagged_at = [i for i, s in enumerate(a) if s >= 0.5]
    assert any(i >= 633 for i in flagged_at), "the repeated spike must be flagged again"
    assert max(a[633:]) > max(b[633:]), "a detector that learned the spike scores its repeat lower"


def _skab_window(level_half_life: float | None = None) -> Any:
    from riskstream.models.artifacts import resolve_model
    from riskstream.models.onnx_model import OnnxModel
    from riskstream.models.window_model import WindowModelDetector

    return WindowModelDetector(OnnxModel(resolve_model("sensor-skab@2")), level_half_life)


def test_window_model_follows_the_operating_level_only_from_unflagged_rows() -> None:
    """A plant settling at a shifted level: followed when the rows are not flagged, ignored
    when they are (a persisting fault must not become the new normal)."""
    rows = _skab_rows(400)
    std = np.std(rows, axis=0)
    shifted = [r + 4 * std for r in rows]
    follower, held, fixed = _skab_window(30), _skab_window(30), _skab_window()
    assert isinstance(follower, OnlineDetector)
    late_follow = run_online(follower, shifted, lambda s: False)[-50:]
    late_held = run_online(held, shifted, lambda s: True)[-50:]
    late_fixed = run_online(fixed, shifted, lambda s: False)[-50:]
    unshifted = run_online(_skab_window(), rows, lambda s: False)[-50:]
    assert np.allclose(follower.level_offset, 4 * std, rtol=0.1, atol=0.05 * float(std.max()))
    assert not held.level_offset.any() and not fixed.level_offset.any()
    # Followed, the shifted rows score like the same rows unshifted (these synthetic rows lack
    # real windows' autocorrelation, so they score near 0.5 even at the training level).
    assert np.median(late_follow) < 0.5 <= min(late_held)
    assert max(late_follow) <= max(unshifted) + 0.05
    assert late_held == late_fixed  # flagged rows: exactly the fixed-level model's scores


def test_window_model_level_half_life_must_be_positive() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="level_half_life"):
        SPEC.validate_python({"type": "window_model", "model": "sensor-skab@2", "level_half_life": 0})
    with pytest.raises(ValueError, match="level_half_life"):
        _skab_window(-1.0)
