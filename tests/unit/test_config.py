"""Config loading: the demo file is valid; each kind of mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskstream.config import ConfigError, load, parse
from riskstream.config.loader import with_env_overrides

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"

MINIMAL = """\
sites:
  - id: plant-a
    name: Plant A
    district: north
    kind: chemical_plant
    risk_points:
      - id: tank-farm
        name: Tank farm
sensors:
  - id: gas-1
    site: plant-a
    point: tank-farm
    metric: combustible_gas
    unit: "%LEL"
    topic: plant-a/gas-1
    thresholds: {warning: 25, alarm: 50}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(text, "site.yaml")
    return err.value.problems


def test_demo_config_loads() -> None:
    cfg = load(DEMO, environ={})
    assert {s.kind.value for s in cfg.sites} >= {"chemical_plant", "school", "road"}
    gas = [s for s in cfg.sensors if s.metric == "combustible_gas"]
    assert gas and all(s.unit == "%LEL" and s.thresholds is not None for s in gas)
    assert gas[0].thresholds is not None and (gas[0].thresholds.warning, gas[0].thresholds.alarm) == (25, 50)
    assert {c.id for c in cfg.cameras} == {"cam-tank-farm", "cam-school-canteen", "cam-g15-k32"}
    assert len({s.district for s in cfg.sites}) >= 2


def test_minimal_config_gets_defaults() -> None:
    cfg = parse(MINIMAL)
    assert cfg.kafka.topics.events == "rs.events"
    assert cfg.kafka.topics.dlq == "rs.dlq"
    assert cfg.clickhouse.dsn.startswith("chdb://")


def test_unknown_field_is_named_with_its_line() -> None:
    text = MINIMAL.replace("    metric: combustible_gas", "    metric: combustible_gas\n    colour: red")
    (problem,) = problems_of(text)
    assert problem.startswith("site.yaml:14: sensors.0.colour: unknown field")


def test_wrong_type_is_named_with_expected_type() -> None:
    (problem,) = problems_of(MINIMAL.replace("alarm: 50", "alarm: fifty"))
    assert problem.startswith("site.yaml:16: sensors.0.thresholds.alarm:")
    assert "valid number" in problem and "'fifty'" in problem


def test_missing_required_field() -> None:
    (problem,) = problems_of(MINIMAL.replace("    district: north\n", ""))
    assert problem.startswith("site.yaml:2: sites.0.district: Field required")


def test_unknown_site_and_point_references() -> None:
    problems = problems_of(MINIMAL.replace("point: tank-farm\n    metric", "point: reactor\n    metric"))
    assert problems == [
        "site.yaml:12: sensors.0.point: unknown risk point 'reactor' of site 'plant-a' "
        "(known: tank-farm)"
    ]
    (problem,) = problems_of(MINIMAL.replace("    site: plant-a", "    site: plant-b"))
    assert problem.startswith("site.yaml:11: sensors.0.site: unknown site 'plant-b'")


def test_duplicate_ids_and_topics() -> None:
    second = MINIMAL.split("sensors:\n", 1)[1]
    problems = problems_of(MINIMAL + second)
    assert any("sensors.1.id: duplicate id 'gas-1'" in p for p in problems)
    assert any("sensors.1.topic: duplicate topic" in p for p in problems)


def test_threshold_levels_must_be_ordered() -> None:
    (problem,) = problems_of(MINIMAL.replace("warning: 25, alarm: 50", "warning: 60, alarm: 50"))
    assert "sensors.0.thresholds" in problem and "warning level must be below" in problem


def test_bad_identifier_and_enum() -> None:
    problems = problems_of(MINIMAL.replace("id: plant-a", "id: Plant A").replace(
        "kind: chemical_plant", "kind: refinery"))
    assert any(p.startswith("site.yaml:2: sites.0.id:") for p in problems)
    assert any(p.startswith("site.yaml:5: sites.0.kind:") and "chemical_plant" in p
               for p in problems)


def test_yaml_syntax_error_points_at_line() -> None:
    (problem,) = problems_of(MINIMAL.replace("kind: chemical_plant", "kind: [chemical_plant"))
    assert problem.startswith("site.yaml:")
    assert "not valid YAML" in problem


def test_top_level_must_be_a_mapping() -> None:
    (problem,) = problems_of("- just\n- a list\n")
    assert "expected a mapping" in problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "nope.yaml")


def test_env_overrides_connection_settings() -> None:
    cfg = with_env_overrides(parse(MINIMAL), {
        "RS_KAFKA_BOOTSTRAP": "127.0.0.1:1234", "RS_MQTT_PORT": "2883",
        "RS_CLICKHOUSE_DSN": "http://localhost:8123",
    })
    assert cfg.kafka.bootstrap == "127.0.0.1:1234"
    assert cfg.mqtt.port == 2883
    assert cfg.clickhouse.dsn == "http://localhost:8123"
    with pytest.raises(ConfigError, match="RS_MQTT_PORT"):
        with_env_overrides(parse(MINIMAL), {"RS_MQTT_PORT": "abc"})


def test_secrets_are_not_in_the_file_schema() -> None:
    problems = problems_of(MINIMAL + "mqtt:\n  password: hunter2\n")
    assert problems[0].startswith("site.yaml:18: mqtt.password: unknown field")


def test_a_rule_that_could_never_fire_is_an_error_at_its_line() -> None:
    rules = """\
correlation:
  rules:
    - name: leak
      type: spread
      site_kinds: [chemical_plant, refinery]
      match: {kind: sensor.threshold, metric: combustable_gas}
"""
    problems = problems_of(MINIMAL + rules)
    assert any("site.yaml:21" in p and "unknown site kind 'refinery'" in p for p in problems), problems
    assert any("site.yaml:22" in p and "no sensor measures 'combustable_gas'" in p
               for p in problems), problems


def test_a_misspelt_unit_is_an_error_with_a_suggestion() -> None:
    problems = problems_of(MINIMAL.replace('unit: "%LEL"', "unit: celsius"))
    assert any("site.yaml:14" in p and "unknown unit 'celsius'" in p and "degC" in p
               for p in problems), problems
