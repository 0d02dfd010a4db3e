"""The threshold filter owns what a detector may learn: one step for the edge's detector chain,
its assets and the evaluations."""

from __future__ import annotations

from typing import Any

from riskstream.models.thresholding import ThresholdConfig, ThresholdFilter, run_online


class Spy:
    name = "spy@1"

    def __init__(self, scores: list[float]) -> None:
        self._scores, self.learned, self.passed = list(scores), [], []

    def warmup(self) -> None:
        return None

    def score(self, x: Any) -> float:
        return self._scores.pop(0)

    def learn(self, x: Any) -> None:
        self.learned.append(x)

    def advance(self, x: Any) -> None:
        self.passed.append(x)


def test_a_flagged_input_is_passed_over_and_never_learned() -> None:
    spy = Spy([0.1, 0.9, 0.45, 0.2])
    flt = ThresholdFilter(ThresholdConfig(threshold=0.5, hysteresis=0.1))
    fired = [flt.step(spy, x)[1] for x in "abcd"]
    # 0.45 is below the threshold but within the hysteresis of an active detection: flagged
    assert (spy.learned, spy.passed, fired) == (["a", "d"], ["b", "c"], [False, True, False, False])


def test_the_evaluation_loop_is_the_same_step() -> None:
    spy = Spy([0.1, 0.9, 0.45, 0.2])
    scores = run_online(spy, "abcd", ThresholdFilter(ThresholdConfig(threshold=0.5, hysteresis=0.1)))
    assert scores == [0.1, 0.9, 0.45, 0.2] and spy.learned == ["a", "d"]
    never = Spy([0.9, 0.9])
    run_online(never, "ab", lambda s: False)
    assert never.learned == ["a", "b"]


def test_a_detector_that_does_not_learn_is_only_scored() -> None:
    class Rule:
        name = "rule@1"

        def warmup(self) -> None:
            return None

        def score(self, x: Any) -> float:
            return 0.9

    assert ThresholdFilter(ThresholdConfig(threshold=0.5)).step(Rule(), 1.0) == (0.9, True)


def test_learn_below_keeps_the_merely_suspicious_out_of_the_memory_without_firing() -> None:
    """Between ``learn_below`` and the threshold an input is neither learned nor a detection
    (before ``learn_below`` existed, whatever did not fire was learned)."""
    spy = Spy([0.1, 0.55, 0.7, 0.3])
    flt = ThresholdFilter(ThresholdConfig(threshold=0.66, learn_below=0.5))
    fired = [flt.step(spy, x)[1] for x in "abcd"]
    assert (spy.learned, spy.passed, fired) == (["a", "d"], ["b", "c"], [False, False, True, False])


def test_a_learning_limit_above_the_threshold_is_refused() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="learn_below"):
        ThresholdConfig(threshold=0.5, learn_below=0.6)
