"""What `riskstream alerts ACTION` makes of an action the correlator could not take."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskstream.cli import main
from riskstream.command_center import make_action, refusal_of
from riskstream.deadletter import DeadLetter

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@pytest.mark.parametrize("stage", ["worker.action", "worker.correlate"])
def test_a_dead_lettered_action_is_its_refusal_whatever_the_stage(stage: str) -> None:
    """An action for a site the worker does not know was dead-lettered at worker.correlate;
    the CLI waited for a worker.action letter, timed out after 30 s and asked whether a worker
    was running."""
    action = make_action("acknowledge", "AL1", "plant-x", "me")
    letter = DeadLetter(stage, "site_id: site 'plant-x' is not in the deployment config",
                        "rs.alert-actions/3@0", action.to_json())
    assert refusal_of(letter.to_json()) == (action.action_id, letter.reason)
    other = DeadLetter(stage, "bad", "rs.events/0@1", b'{"kind": "sensor.reading"}')
    assert refusal_of(other.to_json()) is None


def test_an_action_for_a_site_not_in_the_config_is_refused_before_sending(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["alerts", "ack", "AL1", "--site", "plant-west", "--by", "me",
                 "--config", str(DEMO)]) == 2
    err = capsys.readouterr().err
    assert "--site 'plant-west' is not in" in err and "plant-east" in err
