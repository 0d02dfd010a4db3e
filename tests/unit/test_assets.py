"""Assets: rows of a unit's sensors assembled at a cadence, scored by the real shipped window
model (sensor-skab@2, ONNX), with missing and late channels, channel contributions and the
config's checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from riskstream.config import parse
from riskstream.config.loader import ConfigError
from riskstream.config.schema import ASSET_METRIC
from riskstream.models.artifacts import resolve_model
from riskstream.sensors.assets import AssetError, AssetStages
from riskstream.sensors.pipeline import SensorPipeline

CARD = json.loads((resolve_model("sensor-skab@2") / "card.json").read_text())
FEATURES = CARD["preprocessing"]["features"]
MEAN = np.array(CARD["preprocessing"]["mean"])
STD = np.array(CARD["preprocessing"]["std"])
IDS = [f"ch-{i}" for i in range(len(FEATURES))]
T0 = 1_800_000_000.0


def yaml_text(sensors: list[str] | None = None, site: str = "plant-a") -> str:
    lines = ["sites:"]
    for s in ("plant-a", "plant-b"):
        lines += [f"  - {{id: {s}, name: {s}, district: north, kind: chemical_plant, "
                  "risk_points: [{id: pump-1, name: Pump 1}]}"]
    lines.append("sensors:")
    for sid in IDS:
        lines.append(f"  - {{id: {sid}, site: plant-a, point: pump-1, metric: {sid}, unit: count, "
                     f"topic: plant-a/{sid}}}")
    lines += ["assets:", "  - id: pump-1-asset", f"    site: {site}", "    point: pump-1",
              f"    sensors: [{', '.join(sensors or IDS)}]", "    cadence_s: 1",
              "    detector: {type: window_model, model: sensor-skab@2, "
              "threshold: {threshold: 0.5, min_consecutive: 2}}"]
    return "\n".join(lines) + "\n"


def payload(value: float, t: float) -> bytes:
    return json.dumps({"value": value, "ts": int(t * 1000)}).encode()


def feed(pipe: SensorPipeline, rows: np.ndarray, start: float = T0) -> list:
    events = []
    for i, row in enumerate(rows):
        t = start + i
        for sid, v in zip(IDS, row, strict=True):
            events += pipe.process(f"plant-a/{sid}", payload(float(v), t),
                                   datetime.fromtimestamp(t, UTC)).events
    return events


def normal_rows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return MEAN + 0.1 * STD * rng.standard_normal((n, len(FEATURES)))


def test_normal_rows_raise_nothing_and_a_fault_raises_one_event_naming_its_channel() -> None:
    pipe = SensorPipeline(parse(yaml_text()))
    assert [e.kind for e in feed(pipe, normal_rows(60))] == []
    fault = normal_rows(30, seed=1)
    fault[:, 2] += 10 * STD[2]  # one channel far off its normal level
    events = [e for e in feed(pipe, fault, T0 + 60) if e.kind == "sensor.anomaly"]
    assert len(events) == 1
    e = events[0]
    assert (e.source_id, e.point_id, e.attrs["metric"], e.model) == (
        "pump-1-asset", "pump-1", ASSET_METRIC, "sensor-skab@2")
    shares = {sid: c["contribution"] for sid, c in e.attrs["channels"].items()}
    assert max(shares, key=lambda k: shares[k]) == IDS[2] and shares[IDS[2]] > 0.5
    assert abs(sum(shares.values()) - 1.0) < 1e-3


def test_a_silent_channel_skips_rows_and_counts_them() -> None:
    pipe = SensorPipeline(parse(yaml_text()))
    rows = normal_rows(20)
    for i, row in enumerate(rows):
        t = T0 + i
        for sid, v in zip(IDS[:-1], row[:-1], strict=True):  # the last channel never reports
            pipe.process(f"plant-a/{sid}", payload(float(v), t), datetime.fromtimestamp(t, UTC))
    counts = pipe.assets.counts()["pump-1-asset"]
    assert counts.rows == 0 and counts.missing >= 15 and set(counts.missing_by_channel) == {IDS[-1]}


def test_jitter_within_a_cadence_is_not_late_and_older_readings_are() -> None:
    pipe = SensorPipeline(parse(yaml_text()))
    rows = normal_rows(12)
    for i, row in enumerate(rows):
        for j, (sid, v) in enumerate(zip(IDS, row, strict=True)):
            t = T0 + i + (0.4 if j % 2 else 0.0)  # half the channels report 0.4 s after
            pipe.process(f"plant-a/{sid}", payload(float(v), t), datetime.fromtimestamp(t, UTC))
    counts = pipe.assets.counts()["pump-1-asset"]
    assert counts.late == 0 and counts.missing == 0 and counts.rows >= 9
    pipe.process(f"plant-a/{IDS[0]}", payload(1.0, T0), datetime.fromtimestamp(T0 + 20, UTC))
    assert counts.late == 1


def test_a_model_that_does_not_fit_the_asset_is_refused() -> None:
    cfg = parse(yaml_text(sensors=IDS[:-1]))
    with pytest.raises(AssetError, match="takes 6 features, the asset lists 5"):
        AssetStages(cfg.assets, cfg.sensors, {})


def test_config_errors_point_at_the_asset() -> None:
    with pytest.raises(ConfigError) as err:
        parse(yaml_text(sensors=[*IDS[:-1], "nope"]))
    assert any("assets" in p and "unknown sensor 'nope'" in p for p in err.value.problems)
    with pytest.raises(ConfigError) as err:
        parse(yaml_text(site="plant-b"))
    assert any("belongs to site 'plant-a', the asset to 'plant-b'" in p for p in err.value.problems)


def test_a_window_model_on_one_sensor_points_to_assets() -> None:
    text = yaml_text().split("assets:")[0].replace(
        "topic: plant-a/ch-0}", "topic: plant-a/ch-0, detectors: [{type: window_model, model: m@1}]}")
    with pytest.raises(ConfigError) as err:
        parse(text, "site.yaml")
    (problem,) = err.value.problems
    assert problem.startswith("site.yaml:") and "list them in an asset" in problem
