"""TEP's seed spread: mean, standard deviation and the worst seed, worst meaning the lowest
detection rate but the highest false-alarm rate."""

from __future__ import annotations

import pytest

from riskstream.evaluation.tep import seed_spread


def test_worst_is_lowest_detection_and_highest_false_alarms() -> None:
    spread = seed_spread([{"fault_1": 0.9, "all_normal_false_alarm_rate": 0.1},
                          {"fault_1": 0.7, "all_normal_false_alarm_rate": 0.3}])
    assert spread["fault_1"] == {"mean": pytest.approx(0.8), "sd": pytest.approx(0.1), "worst": 0.7}
    assert spread["all_normal_false_alarm_rate"]["worst"] == 0.3
