import pytest

from riskstream.config.schema import AlarmThresholds
from riskstream.models.base import DetectorInputError
from riskstream.models.sensor_rules import Implausible, LevelAlarm, RateOfChange, Sample, Silence, Stuck


def test_level_alarm_two_levels_with_deadband() -> None:
    det = LevelAlarm(AlarmThresholds(warning=25, alarm=50, deadband=2))
    values = [10, 26, 24, 23.5, 51, 49, 47, 10]  # falls back only 2 below a level
    assert [det.score(Sample(i, v)) for i, v in enumerate(values)] == [0, 0.5, 0.5, 0.5, 1, 1, 0.5, 0]


def test_rate_of_change_uses_device_time() -> None:
    det = RateOfChange(max_per_s=2.0)
    assert det.score(Sample(0, 10)) == 0.0
    assert det.score(Sample(10, 30)) == pytest.approx(0.5)  # 2 /s = the limit
    assert det.score(Sample(11, 50)) == pytest.approx(20 / 22)
    assert det.score(Sample(11, 99)) == 0.0  # same timestamp: no rate
    with pytest.raises(DetectorInputError, match="older"):
        det.score(Sample(5, 1))


def test_stuck_needs_a_full_window_of_flat_values() -> None:
    det = Stuck(window_s=10, min_change=0.05)
    flat = [det.score(Sample(t, 7.0)) for t in range(0, 12)]
    assert flat[:9] == [0.0] * 9 and flat[-1] == 1.0
    assert det.score(Sample(12, 7.5)) == 0.0


def test_implausible_and_silence() -> None:
    det = Implausible(-10, 100)
    assert det.score(Sample(0, 50)) == 0.0 and det.score(Sample(1, 150)) == 1.0
    with pytest.raises(ValueError):
        Implausible(5, 5)
    quiet = Silence(timeout_s=30, started_at=0)
    quiet.seen(100)
    assert quiet.score(100) == 0.0
    assert quiet.score(130) == pytest.approx(0.5)
    assert quiet.score(400) > 0.9
    with pytest.raises(DetectorInputError):
        quiet.score(float("nan"))
