"""The deployment configuration: sites, risk points, sensors, cameras and connections.

Every model forbids unknown keys (a typo is an error, not a silently ignored setting) and
documents each field. Secrets are never written in the YAML: a field such as
``password_env`` names the environment variable that holds the secret.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from riskstream.config.base import Identifier, Strict
from riskstream.config.mqtt_topics import matches as topic_matches
from riskstream.config.mqtt_topics import valid_filter
from riskstream.config.rules import EventMatch, RuleConfig, RuleSet
from riskstream.config.thresholds import AlarmThresholds, Direction
from riskstream.detectors import (
    AssetDetectorSpec,
    CameraDetectorSpec,
    SensorDetectorSpec,
    TamperSpec,
    ZoneMotionSpec,
)

__all__ = ["AlarmThresholds", "Direction"]


class SiteKind(StrEnum):
    CHEMICAL_PLANT = "chemical_plant"
    SCHOOL = "school"
    ROAD = "road"
    PUBLIC_SPACE = "public_space"
    OTHER = "other"


class RiskPoint(Strict):
    id: Identifier = Field(description="Risk point id, unique within its site (e.g. tank-farm).")
    name: str = Field(description="Human-readable name shown to operators.")
    hazard: str = Field("", description="What can go wrong here (e.g. 'flammable gas release').")


class Site(Strict):
    id: Identifier = Field(description="Site id; the Kafka key of every event from this site.")
    name: str = Field(description="Human-readable site name.")
    district: str = Field(description="City district whose platform receives this site's alerts.")
    kind: SiteKind = Field(description="What kind of site this is.")
    risk_points: list[RiskPoint] = Field(
        default_factory=list, description="Monitored risk points (major hazard sources, areas)."
    )
    major_hazard_grade: int | None = Field(
        None, ge=1, le=4, description="GB 18218 major-hazard grade (1 is the highest); breaks "
        "ties in the command center's alarm order. None: not a major hazard installation."
    )


class ValidRange(Strict):
    min: float = Field(description="Lowest physically plausible value; below is a bad reading.")
    max: float = Field(description="Highest physically plausible value; above is a bad reading.")

    @model_validator(mode="after")
    def _ordered(self) -> ValidRange:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class Sensor(Strict):
    id: Identifier = Field(description="Sensor (device) id, unique across the deployment.")
    site: Identifier = Field(description="Id of the site the sensor belongs to.")
    point: Identifier = Field(description="Id of the risk point (within the site) it watches.")
    metric: str = Field(description="What it measures, e.g. combustible_gas, temperature.")
    unit: str = Field(description="Unit readings are reported in, e.g. %LEL, degC, kPa, m.")
    topic: str = Field(description="MQTT topic the sensor publishes readings on.")
    thresholds: AlarmThresholds | None = Field(None, description="Static two-level alarm.")
    valid_range: ValidRange | None = Field(
        None, description="Physically plausible range; readings outside it are rejected."
    )
    detectors: list[SensorDetectorSpec] = Field(
        default_factory=list,
        description="More detectors on this point besides the static "
        "thresholds: rate (sensor.rate), stuck (sensor.stuck), silence (sensor.offline), "
        "knn_likelihood (sensor.anomaly).",
    )


ASSET_METRIC = "asset"  # attrs.metric of an asset's sensor.anomaly events (rules match on it)


class Asset(Strict):
    """A group of one unit's sensors scored together by a multivariate window model (a pump's
    pressure, flow, vibration and current): the edge assembles a row of their latest values
    every ``cadence_s`` of device time and emits ``sensor.anomaly`` for the asset."""

    id: Identifier = Field(description="Asset id, unique across the deployment (the events' source_id).")
    site: Identifier = Field(description="Id of the site the asset belongs to.")
    point: Identifier = Field(description="Id of the risk point (within the site) it is part of.")
    sensors: list[Identifier] = Field(
        min_length=2, description="Sensor ids, in the order of the model's features.")
    cadence_s: float = Field(1.0, gt=0, description="One row per this many seconds of device time.")
    max_age_s: float | None = Field(
        None, gt=0, description="A channel whose latest reading is older than this at the row's "
        "time is missing and the row is skipped (counted); default 3 x cadence_s.")
    detector: AssetDetectorSpec = Field(
        description="The window model: {type: window_model, model: name@version}.")

    @property
    def max_age(self) -> float:
        return self.max_age_s if self.max_age_s is not None else 3.0 * self.cadence_s


class Zone(Strict):
    name: Identifier = Field(description="Zone name, unique within its camera.")
    polygon: list[tuple[float, float]] = Field(
        min_length=3, description="Polygon corners as [x, y] fractions (0..1) of the frame."
    )
    restricted: bool = Field(False, description="Any presence here is an intrusion.")


class Camera(Strict):
    id: Identifier = Field(description="Camera id, unique across the deployment.")
    site: Identifier = Field(description="Id of the site the camera belongs to.")
    point: Identifier | None = Field(None, description="Risk point the camera watches, if any.")
    url: str = Field(description="rtsp://, http(s):// (MJPEG) or a file path.")
    fps: float = Field(5.0, gt=0, le=60, description="Frames per second to analyse.")
    zones: list[Zone] = Field(default_factory=list, description="Zones for motion/intrusion.")
    exclude: list[list[tuple[float, float]]] = Field(
        default_factory=list,
        description="Mask polygons ([x, y] fractions) where motion never "
        "counts (trees, a road outside the fence, a timestamp overlay).",
    )
    detectors: list[CameraDetectorSpec] | None = Field(
        None, description="Video detectors; default: zone_motion (if zones are set) and tamper."
    )
    password_env: str | None = Field(
        None,
        description="Env variable with the stream password; it is put into the URL's "
        "user part at connect time and never logged (logs and heartbeats show ***).",
    )
    open_timeout_s: float = Field(10.0, gt=0, description="Give up opening the stream after this.")
    read_timeout_s: float = Field(5.0, gt=0, description="A stream silent this long is lost.")
    realtime: bool = Field(
        False, description="Pace a file source at its own frame rate, as a live camera would."
    )

    @model_validator(mode="after")
    def _zones_for_zone_motion(self) -> Camera:
        if self.detectors and not self.zones and any(isinstance(d, ZoneMotionSpec) for d in self.detectors):
            raise ValueError("detector zone_motion needs zones")
        return self

    def detector_specs(self) -> list[CameraDetectorSpec]:
        if self.detectors is not None:
            return list(self.detectors)
        return [*([ZoneMotionSpec()] if self.zones else []), TamperSpec()]


class TopicNames(Strict):
    events: str = Field("rs.events", description="Detector events, keyed by site_id.")
    readings: str = Field("rs.readings", description="Downsampled sensor readings.")
    health: str = Field("rs.health", description="Device and camera heartbeats.")
    alerts: str = Field("rs.alerts", description="Correlated alerts for the command center.")
    alert_actions: str = Field("rs.alert-actions", description="Acknowledge/resolve actions.")
    dlq: str = Field("rs.dlq", description="Dead letters: bad records with their reason.")
    evidence: str = Field("rs.evidence", description="Snapshots of video events, edge to center.")


class KafkaSettings(Strict):
    bootstrap: str = Field(
        "127.0.0.1:9092", description="host:port list of brokers (env RS_KAFKA_BOOTSTRAP wins)."
    )
    partitions: int = Field(4, ge=1, le=1024, description="Partitions of each riskstream topic.")
    topics: TopicNames = Field(default_factory=TopicNames, description="Topic names.")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="Kafka security protocol."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism when the protocol uses SASL."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password_env: str | None = Field(None, description="Env variable with the SASL password.")
    ssl_cafile: str | None = Field(None, description="CA bundle to verify the brokers.")


class MqttSettings(Strict):
    host: str = Field("127.0.0.1", description="Broker host (env RS_MQTT_HOST wins).")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (env RS_MQTT_PORT wins).")
    username: str | None = Field(None, description="User name (env RS_MQTT_USERNAME wins).")
    password_env: str = Field("RS_MQTT_PASSWORD", description="Env variable that holds the MQTT password.")
    tls: bool = Field(False, description="Connect with TLS.")
    ca_file: str | None = Field(None, description="CA bundle for TLS.")
    client_id: str = Field("riskstream-edge", description="MQTT client id prefix.")
    qos: Literal[0, 1, 2] = Field(1, description="Subscription QoS.")
    subscriptions: list[str] = Field(
        default_factory=list,
        description="Topic filters to subscribe to, wildcards allowed "
        "(e.g. 'plant-7/+/gas'); default: each sensor's own topic. Messages on a subscribed "
        "topic that no sensor is configured for go to the DLQ as unknown_topic.",
    )


TtlTable = Literal["events", "readings", "readings_1m", "readings_1h", "alert_transitions"]


def _default_ttl() -> dict[TtlTable, int]:
    return {"events": 365, "readings": 30, "readings_1m": 400, "readings_1h": 1830, "alert_transitions": 0}


class ClickHouseSettings(Strict):
    dsn: str = Field(
        "chdb://.riskstream/clickhouse",
        description="chdb:///abs/path (embedded engine) or http(s)://user@host:port/db "
        "(env RS_CLICKHOUSE_DSN wins).",
    )
    database: str = Field("riskstream", description="Database holding the riskstream tables.")
    password_env: str = Field(
        "RS_CLICKHOUSE_PASSWORD", description="Env variable with the ClickHouse password."
    )
    batch_size: int = Field(1000, ge=1, description="Rows per insert at most.")
    batch_seconds: float = Field(1.0, gt=0, description="Longest wait before a partial batch.")
    ttl_days: dict[TtlTable, int] = Field(
        default_factory=_default_ttl,
        description="Days each table keeps its rows (0: forever); applied at worker start.",
    )


class WorkerSettings(Strict):
    app_id: str = Field("riskstream", description="Faust app id (consumer group prefix).")
    metrics_port: int = Field(9109, ge=0, le=65535, description="Prometheus port on 127.0.0.1 "
                              "(a free one when taken, logged); 0 disables.")
    session_timeout_s: float = Field(10.0, gt=0, description="Kafka consumer session timeout.")
    store: Literal["memory://", "rocksdb://"] = Field(
        "memory://",
        description="Faust table store; rocksdb:// keeps state on disk so a restart "
        "reads only the changelog tail (production).",
    )
    standby_replicas: int = Field(1, ge=0, le=3, description="Standby copies of table state.")
    tick_interval_s: float = Field(
        1.0, gt=0, description="How often windows, silence and escalation are checked."
    )
    correlate_batch: int = Field(1000, ge=1, description="Records per correlation batch at most.")
    stall_timeout_s: float = Field(
        30.0,
        ge=0,
        description="Restart the worker when records wait on its partitions and "
        "nothing is committed for this long (a stalled Faust consumer; offset jumps are "
        "read again by the worker's consumer itself); 0 disables. Keep it "
        "above 5 s, the longest ClickHouse retry pause.",
    )


class EdgeSettings(Strict):
    metrics_port: int = Field(9108, ge=0, le=65535, description="Prometheus port on 127.0.0.1 "
                              "(a free one when taken, logged); 0 disables.")
    heartbeat_s: float = Field(
        10.0, gt=0, description="How often each reporting device's heartbeat goes to rs.health."
    )
    downsample: bool = Field(True, description="Send 1 s and 1 min reading summaries to rs.readings.")
    max_reading_age_s: float = Field(
        7 * 86400.0, gt=0,
        description="A reading whose device time is older than this (a clock reset, epoch "
        "seconds sent as milliseconds) is a dead letter, not an event ClickHouse's retention "
        "would silently delete. Keep it below the readings table's ttl_days.",
    )
    outbox_max_mb: float = Field(
        256.0,
        gt=0,
        description="Disk budget of the durable outbox files (database and write-ahead "
        "log; about 35 % of it holds records); when full, the oldest records of the lowest "
        "severity below critical are dropped (counted).",
    )
    models_dir: str | None = Field(
        None,
        description="Folder of ONNX artifacts (<name>/<version>/model.onnx + card.json) that "
        "detectors reference as name@version; default: the models shipped with riskstream.",
    )
    snapshot_dir: str = Field(
        "snapshots",
        description="Folder for event JPEG snapshots (relative paths are under the edge state folder).",
    )
    camera_backoff_s: tuple[float, float] = Field(
        (1.0, 30.0), description="Reconnect delay of a lost camera: first and largest (doubling)."
    )
    incident_update_s: float = Field(
        5.0, gt=0, description="While a video incident lasts, send an update at most this often."
    )
    incident_end_s: float = Field(
        3.0, gt=0, description="A video incident ends after this long without a detection."
    )
    clip_s: tuple[float, float] = Field(
        (2.0, 3.0), description="Seconds of analysed frames before and after an incident's start "
        "in the clip sent to the center (WebM); [0, 0] sends none (snapshots still go)."
    )

    @field_validator("clip_s")
    @classmethod
    def _clip_span(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) < 0 or sum(value) > 30:
            raise ValueError("clip_s: two seconds counts, each >= 0, together at most 30")
        return value


class CenterSettings(Strict):
    """The command-center console (``riskstream center serve``)."""

    host: str = Field("127.0.0.1", description="Address the console listens on.")
    port: int = Field(8600, ge=0, le=65535, description="Port of the console (0: a free one).")
    session_idle_s: float = Field(
        1800.0, gt=0, description="A session unused this long is over (log in again).")
    session_max_s: float = Field(12 * 3600.0, gt=0, description="A session ends this long after login.")
    login_attempts: int = Field(
        5, ge=1, description="Failed logins allowed per user name and per client address ...")
    login_window_s: float = Field(300.0, gt=0, description="... within this many seconds.")
    audit_retention_days: int = Field(
        180, ge=30, description="Days the audit trail keeps its rows (at least the 30 days the "
        "major-hazard rules require).")
    resolved_kept: int = Field(
        500, ge=0, description="Resolved alerts the board keeps in memory (newest first).")
    action_wait_s: float = Field(
        10.0, gt=0, description="How long an action waits for the correlator's answer.")
    evidence_retention_days: int = Field(
        30, ge=30, description="Days the console keeps event snapshots received on rs.evidence "
        "(at least the 30 days of electronic records the major-hazard rules require).")
    evidence_max_mb: float = Field(
        20480.0, gt=0, description="Disk budget of the stored snapshots; over it, new snapshots are "
        "refused (dead-lettered, counted) rather than old ones deleted before their 30 days.")
    health_replay_s: float = Field(
        900.0, gt=0, description="At start the console reads rs.health from this far back, so "
        "the device page shows each device's last heartbeat at once.")


class Config(Strict):
    """A whole deployment: what is watched and how the parts connect."""

    sites: list[Site] = Field(min_length=1, description="Monitored sites.")
    sensors: list[Sensor] = Field(default_factory=list, description="Hazard sensors (MQTT).")
    cameras: list[Camera] = Field(default_factory=list, description="CCTV cameras.")
    assets: list[Asset] = Field(
        default_factory=list, description="Groups of sensors scored together by a window model.")
    kafka: KafkaSettings = Field(default_factory=KafkaSettings, description="Kafka connection.")
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="MQTT connection.")
    clickhouse: ClickHouseSettings = Field(
        default_factory=ClickHouseSettings, description="ClickHouse connection."
    )
    worker: WorkerSettings = Field(default_factory=WorkerSettings, description="Stream workers.")
    edge: EdgeSettings = Field(default_factory=EdgeSettings, description="Edge agent.")
    correlation: RuleSet = Field(default_factory=RuleSet, description="Correlation rules.")
    center: CenterSettings = Field(default_factory=CenterSettings, description="Command center.")

    def site(self, site_id: str) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)


def reference_errors(cfg: Config) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-field problems (unknown site, duplicate id ...) as (field path, message)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    points = {s.id: {p.id for p in s.risk_points} for s in cfg.sites}

    def unique(items: list[str], section: tuple[str | int, ...], key: str) -> None:
        seen: set[str] = set()
        for i, value in enumerate(items):
            if value in seen:
                problems.append(((*section, i, key), f"duplicate {key} {value!r}"))
            seen.add(value)

    unique([s.id for s in cfg.sites], ("sites",), "id")
    unique([s.id for s in cfg.sensors], ("sensors",), "id")
    unique([s.topic for s in cfg.sensors], ("sensors",), "topic")
    unique([c.id for c in cfg.cameras], ("cameras",), "id")
    unique([a.id for a in cfg.assets], ("assets",), "id")
    for i, site in enumerate(cfg.sites):
        unique([p.id for p in site.risk_points], ("sites", i, "risk_points"), "id")
    devices: list[tuple[str, int, Sensor | Camera | Asset]] = [
        *(("sensors", i, s) for i, s in enumerate(cfg.sensors)),
        *(("cameras", i, c) for i, c in enumerate(cfg.cameras)),
        *(("assets", i, a) for i, a in enumerate(cfg.assets)),
    ]
    for section, i, dev in devices:
        if dev.site not in points:
            known = ", ".join(sorted(points))
            problems.append(((section, i, "site"), f"unknown site {dev.site!r} (known: {known})"))
        elif dev.point is not None and dev.point not in points[dev.site]:
            known = ", ".join(sorted(points[dev.site])) or "none"
            problems.append(
                (
                    (section, i, "point"),
                    f"unknown risk point {dev.point!r} of site {dev.site!r} (known: {known})",
                )
            )
    for i, sensor in enumerate(cfg.sensors):
        if re.search(r"[+#]", sensor.topic):
            problems.append((("sensors", i, "topic"), "a sensor topic must not contain + or #"))
        elif cfg.mqtt.subscriptions and not any(
            topic_matches(f, sensor.topic) for f in cfg.mqtt.subscriptions
        ):
            problems.append(
                (
                    ("sensors", i, "topic"),
                    f"{sensor.topic!r} is not covered by any of "
                    f"mqtt.subscriptions ({', '.join(cfg.mqtt.subscriptions)})",
                )
            )
    for i, pattern in enumerate(cfg.mqtt.subscriptions):
        wrong = valid_filter(pattern)
        if wrong:
            problems.append((("mqtt", "subscriptions", i), wrong))
    for i, sensor in enumerate(cfg.sensors):
        if sensor.unit not in KNOWN_UNITS:
            hint = UNIT_SPELLINGS.get(sensor.unit.lower())
            problems.append((("sensors", i, "unit"), f"unknown unit {sensor.unit!r}" + (
                f" (did you mean {hint!r}?)" if hint else
                f" (known: {', '.join(sorted(KNOWN_UNITS))})")))
    problems += _asset_errors(cfg)
    problems += _rule_errors(cfg)
    return problems


def _asset_errors(cfg: Config) -> list[tuple[tuple[str | int, ...], str]]:
    problems: list[tuple[tuple[str | int, ...], str]] = []
    sensors = {s.id: s for s in cfg.sensors}
    for i, asset in enumerate(cfg.assets):
        if len(set(asset.sensors)) < len(asset.sensors):
            problems.append((("assets", i, "sensors"), "a sensor is listed twice"))
        for j, sid in enumerate(asset.sensors):
            sensor = sensors.get(sid)
            if sensor is None:
                problems.append((("assets", i, "sensors", j), f"unknown sensor {sid!r}"))
            elif sensor.site != asset.site:
                problems.append((("assets", i, "sensors", j), f"sensor {sid!r} belongs to site "
                                 f"{sensor.site!r}, the asset to {asset.site!r}"))
    return problems


# Units a sensor may report in (readings in a convertible unit are converted to the sensor's).
KNOWN_UNITS = frozenset({
    "%LEL", "%VOL", "ppm", "ppb", "mg/m3", "degC", "degF", "K", "kPa", "Pa", "MPa", "bar", "mbar",
    "psi", "m", "mm", "cm", "m3/h", "L/min", "t/h", "kg/h", "%", "%RH", "mm/s", "m/s", "m/s2", "g",
    "A", "mA", "V", "kV", "W", "kW", "Hz", "rpm", "dB", "lux", "uSv/h", "count",
})
UNIT_SPELLINGS = {"celsius": "degC", "°c": "degC", "c": "degC", "fahrenheit": "degF",
                  "kelvin": "K", "lel": "%LEL", "%lel": "%LEL", "kpa": "kPa", "mpa": "MPa",
                  "percent": "%", "meters": "m", "metre": "m", "meter": "m"}


def _rule_errors(cfg: Config) -> list[tuple[tuple[str | int, ...], str]]:
    """A rule that can never fire: a metric no sensor measures, a site kind no site has."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    metrics = {s.metric for s in cfg.sensors} | ({ASSET_METRIC} if cfg.assets else set())
    kinds = {k.value for k in SiteKind}
    for i, rule in enumerate(cfg.correlation.rules):
        where: tuple[str | int, ...] = ("correlation", "rules", i)
        for j, kind in enumerate(rule.site_kinds):
            if kind not in kinds:
                problems.append(((*where, "site_kinds", j), f"unknown site kind {kind!r} "
                                 f"(known: {', '.join(sorted(kinds))})"))
        for path, match in _matches(rule):
            if match.metric and cfg.sensors and match.metric not in metrics:
                problems.append(((*where, *path, "metric"), f"no sensor measures {match.metric!r}"
                                 f": the rule could never fire (metrics: {', '.join(sorted(metrics))})"))
    return problems


def _matches(rule: RuleConfig) -> list[tuple[tuple[str | int, ...], EventMatch]]:
    out: list[tuple[tuple[str | int, ...], EventMatch]] = []
    for name in ("all_of", "steps"):
        out += [((name, j), m) for j, m in enumerate(getattr(rule, name, None) or [])]
    for name in ("match", "alarming"):
        if getattr(rule, name, None) is not None:
            out.append(((name,), getattr(rule, name)))
    return out


def env_secret(name: str | None) -> str | None:
    """The secret held by environment variable ``name`` (None when unset)."""
    return os.environ.get(name) if name else None
