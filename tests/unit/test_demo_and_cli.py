"""The demo's simulated plant, the CLI's help texts, and table formatting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riskstream.cli import build_parser, main
from riskstream.config import load
from riskstream.demo.simulator import readings
from riskstream.sensors.pipeline import SensorPipeline
from riskstream.tables import format_table

DEMO = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


def _events_of_run(duration: float, rate: float) -> tuple[list[str], int]:
    cfg = load(DEMO, environ={})
    pipe = SensorPipeline(cfg)
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 11, 29, tzinfo=UTC)
    changes, dead = [], 0
    for msg in readings(cfg.sensors, duration, rate):
        out = pipe.process(msg.topic, msg.payload, t0 + timedelta(seconds=msg.at))
        dead += out.dead_letter is not None
        changes += [f"{e.source_id}:{e.attrs['level']}" for e in out.events]
    return changes, dead


def test_simulated_incident_crosses_the_alarm_levels() -> None:
    changes, dead = _events_of_run(60, 2)
    assert "gas-tf-01:alarm" in changes and "gas-tf-02:warning" in changes
    assert "temp-r101:warning" in changes and "level-t3:warning" in changes
    assert dead == 2  # the malformed and the implausible payload


def test_simulation_is_deterministic() -> None:
    assert _events_of_run(20, 2) == _events_of_run(20, 2)


def test_messages_are_in_time_order_at_the_given_rate() -> None:
    cfg = load(DEMO, environ={})
    msgs = list(readings(cfg.sensors, 10, 3))
    times = [m.at for m in msgs]
    assert times == sorted(times)
    assert len([m for m in msgs if not m.note]) == 10 * 3 * len(cfg.sensors)
    assert all(isinstance(json.loads(m.payload), dict) for m in msgs if not m.note)


@pytest.mark.parametrize("command", ["services", "edge", "worker", "demo", "config", "topics",
                                     "alerts", "clickhouse", "sql", "query"])
def test_every_subcommand_explains_itself(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: riskstream {command}" in out
    assert len(out.splitlines()) > 4


def test_top_level_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for command in ("services", "edge", "worker", "demo"):
        assert command in out


def test_config_check_reports_errors_with_exit_code(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(DEMO)]) == 0
    assert "3 sites, 5 sensors, 3 cameras" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO.read_text().replace("fps: 5", "fps: fast", 1))
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "cameras.0.fps" in err


def test_format_table() -> None:
    text = format_table(["a", "bb"], [[1, None], ["long", 2.5]])
    assert text.splitlines() == ["a     bb", "----  ---", "1", "long  2.5", "(2 rows)"]


def test_query_parameters_are_checked_before_running(capsys: pytest.CaptureFixture[str]) -> None:
    for args, words in ((["readings-around-alert"], "needs parameter(s): alert_id"),
                        (["top-risk-points", "-p", "hours=abc"], "hours must be a number"),
                        (["top-risk-points", "-p", "hourz=3"], "no parameter hourz")):
        assert main(["query", *args]) == 2
        assert words in capsys.readouterr().err


def test_config_check_takes_c_like_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    demo = str(Path(__file__).resolve().parents[2] / "config" / "demo.yaml")
    assert main(["config", "check", "-c", demo]) == 0
    assert f"{demo}: ok" in capsys.readouterr().out


@pytest.mark.parametrize(("dataset", "make", "says"), [
    ("nab", lambda root: (root / "nab").mkdir(), "combined_windows.json"),
    ("tep", lambda root: ((root / "tep").mkdir(), (root / "tep" / "d00.dat").write_text("1 2 3\n")),
     "expected 52 columns, got 3"),
    ("skab", lambda root: (root / "skab" / "data").mkdir(parents=True), "no experiment files"),
])
def test_eval_on_a_malformed_dataset_folder_is_a_clear_error(
        dataset: str, make: object, says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dataset folder that is there but incomplete ended in a traceback (FileNotFoundError,
    IndexError); now one line naming the dataset and what is wrong, exit status 2."""
    make(tmp_path)  # type: ignore[operator]
    assert main(["eval", dataset, "--data", str(tmp_path), "--results", str(tmp_path / "out"),
                 "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert f"\nerror: {dataset}: " in err and says in err and "Traceback" not in err


def test_an_unknown_log_level_is_refused_and_any_case_is_taken(
        capsys: pytest.CaptureFixture[str]) -> None:
    """``--log-level LOUD`` was taken silently as INFO."""
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["--log-level", "LOUD", "config", "check"])
    assert stopped.value.code == 2 and "invalid choice: 'LOUD'" in capsys.readouterr().err
    assert build_parser().parse_args(["--log-level", "debug", "config", "check"]).log_level == "DEBUG"
