from riskstream.models.thresholding import ThresholdConfig, ThresholdFilter, detections, flags


def test_persistence_hysteresis_and_cooldown() -> None:
    cfg = ThresholdConfig(threshold=0.5, min_consecutive=2, hysteresis=0.1, cooldown=3)
    scores = [0.6, 0.2, 0.6, 0.7, 0.45, 0.3, 0.6, 0.6, 0.6, 0.6, 0.1, 0.9, 0.9]
    # Fires at 3; 4-6 are the cooldown; a new run of two reaches 7 and fires.
    assert detections(scores, cfg) == [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    # 0.45 stays active thanks to the hysteresis; 0.3 ends it.
    assert flags(scores, cfg) == [0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1]


def test_above_uses_hysteresis_only_while_active() -> None:
    f = ThresholdFilter(ThresholdConfig(threshold=0.5, hysteresis=0.2))
    assert not f.above(0.4)
    assert f.update(0.5)
    assert f.above(0.4)


def test_observe_says_flagged_for_learning_and_fired_once() -> None:
    """What online detectors must not learn from: at the threshold, or inside the hysteresis
    band during a detection; ``fired`` only where a detection starts."""
    f = ThresholdFilter(ThresholdConfig(threshold=0.5, min_consecutive=2, hysteresis=0.2))
    seen = [f.observe(s) for s in (0.2, 0.6, 0.6, 0.35, 0.2, 0.45)]
    assert seen == [(False, False), (True, False), (True, True), (True, False), (False, False),
                    (False, False)]


def test_cooldown_silences_a_re_detection_within_it() -> None:
    flt = ThresholdFilter(ThresholdConfig(threshold=0.5, cooldown=3))
    fired = [i for i, s in enumerate([0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9]) if flt.update(s)]
    assert fired == [0, 4]  # 2 falls in the cooldown (inputs 1-3); 4 and 6: 6 is within 4's
    plain = ThresholdFilter(ThresholdConfig(threshold=0.5))
    assert [i for i, s in enumerate([0.9, 0.1, 0.9]) if plain.update(s)] == [0, 2]


def test_a_certainty_fires_at_once_and_a_run_still_waits() -> None:
    """With persistence 3, a lone score of 1 fires on its own row (it could never make a run)
    and a run below ``fire_at_once`` fires on its third row; neither fires twice."""
    cfg = ThresholdConfig(threshold=0.66, min_consecutive=3, fire_at_once=1.0)
    scores = [0.1, 1.0, 0.2, 0.7, 0.8, 0.7, 0.9, 0.1, 0.7, 1.0, 0.8, 0.1, 0.7, 0.7, 0.1]
    assert detections(scores, cfg) == [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert detections(scores, cfg.model_copy(update={"fire_at_once": None})) == [
        0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]
