"""Event and Alert: the contract between the edge, the stream workers and ClickHouse.

Stdlib only, so both the edge box and the workers import it without extra dependencies.
On the wire an event is one JSON object with a ``schema`` version; decoding validates every
field and raises :class:`EventError` naming the first bad one. Times are tz-aware UTC
``datetime`` objects in memory and ISO-8601 strings with millisecond precision on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

SCHEMA_VERSION = 1

_E = TypeVar("_E", bound=StrEnum)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]  # ids are made per event
_PAIR_SHIFTS = range(120, -1, -10)


class EventError(ValueError):
    """An event or alert that does not satisfy the contract; the message names the field."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class ImplausibleTime(EventError):
    """A well-formed time outside the range any real event can have (a device clock error)."""


class Severity(StrEnum):
    """How urgent an event or alert is, in increasing order."""

    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)


_SEVERITY_ORDER = [Severity.INFO, Severity.WARNING, Severity.MAJOR, Severity.CRITICAL]


class AlertStatus(StrEnum):
    """Where an alarm stands (ISA-18.2 / IEC 62682 states, as OPC UA Part 9 maps them).

    ``open`` and ``escalated`` are unacknowledged and active; ``returned`` is returned to
    normal unacknowledged (the condition cleared before anyone acknowledged); ``resolved`` is
    normal again. ``shelved`` is an operator's timed suppression of one alarm.
    ``out_of_service`` and ``suppressed`` are conditions of a device or a risk point rather
    than alarms: while one is live, that source's events are recorded and raise nothing.
    """

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    RETURNED = "returned"
    SHELVED = "shelved"
    OUT_OF_SERVICE = "out_of_service"
    SUPPRESSED = "suppressed"

    @property
    def unacknowledged(self) -> bool:
        return self in (AlertStatus.OPEN, AlertStatus.ESCALATED, AlertStatus.RETURNED)


# -- time-sortable ids ---------------------------------------------------------------------


class _UlidFactory:
    """ULID-style ids: 48-bit ms timestamp + 80 random bits, Crockford base32, 26 chars.

    Within one millisecond the random part is incremented, so ids made by one process
    sort in creation order (monotonic ULID).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0

    def new(self, now_ms: int | None = None) -> str:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                rand = (self._last_rand + 1) & ((1 << 80) - 1)
            else:
                rand = int.from_bytes(os.urandom(10), "big")
            self._last_ms, self._last_rand = ms, rand
        value = (ms << 80) | rand
        # 26 base32 digits = 130 bits (two leading zeros), read as 13 pairs of digits
        return "".join([_CROCKFORD_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


_ids = _UlidFactory()


def new_event_id(now_ms: int | None = None) -> str:
    """A new unique, time-sortable id (26-character ULID)."""
    return _ids.new(now_ms)


def event_id_time(event_id: str) -> datetime:
    """The creation time encoded in an id made by :func:`new_event_id`."""
    value = 0
    for ch in event_id:
        value = value * 32 + _CROCKFORD.index(ch)
    return datetime.fromtimestamp((value >> 80) / 1000, tz=UTC)


# -- time helpers ---------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(UTC)


# Every time on the wire lies in this range: anything else is a device clock error (a reset to
# 1970, epoch seconds read as milliseconds) that ClickHouse would clamp or expire unseen.
MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2200, 1, 1, tzinfo=UTC)


def to_utc(value: datetime, field_name: str) -> datetime:
    """Check that ``value`` is tz-aware and within [:data:`MIN_TIME`, :data:`MAX_TIME`) and
    convert it to UTC, truncated to milliseconds."""
    if value.tzinfo is UTC and not value.microsecond % 1000:
        if MIN_TIME <= value < MAX_TIME:
            return value  # the usual case on the wire, and the hot one in the workers
    elif value.tzinfo is None or value.utcoffset() is None:
        raise EventError(field_name, "datetime must be timezone-aware (UTC)")
    value = value.astimezone(UTC)
    if not MIN_TIME <= value < MAX_TIME:
        raise ImplausibleTime(field_name, f"{value.isoformat()[:32]} is outside 2000-01-01 .. "
                                     "2199-12-31 (a device clock error?)")
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def format_time(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"  # "+00:00" -> "Z"


def parse_time(value: object, field_name: str) -> datetime:
    """Parse an ISO-8601 string with an explicit offset, or epoch milliseconds."""
    if value.__class__ is str:  # the usual case first
        try:
            parsed = datetime.fromisoformat(value)  # 3.11 reads a trailing "Z"
        except ValueError:
            raise EventError(field_name, f"not an ISO-8601 time: {value[:40]!r}") from None
        return to_utc(parsed, field_name)
    if isinstance(value, bool):
        raise EventError(field_name, f"expected an ISO-8601 time, got {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise EventError(field_name, "time must be finite")
        try:
            parsed = datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise EventError(field_name, f"epoch milliseconds out of range: {value}") from None
        return to_utc(parsed, field_name)
    raise EventError(field_name, f"expected an ISO-8601 time string, got {type(value).__name__}")


# -- field validators -----------------------------------------------------------------------


def _text(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 256) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise EventError(name, "is required")
        return None
    if not isinstance(value, str):
        raise EventError(name, f"expected a string, got {type(value).__name__}")
    if required and not value:
        raise EventError(name, "must not be empty")
    if len(value) > max_len:
        raise EventError(name, f"longer than {max_len} characters")
    return value


def _number(data: dict[str, Any], name: str, *, required: bool) -> float | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventError(name, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(name, f"expected a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise EventError(name, "must be a finite number")
    return float(value)


def _enum(data: dict[str, Any], name: str, enum: type[_E]) -> _E:
    value = data.get(name)
    try:
        return enum(str(value) if value is not None else "")
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise EventError(name, f"expected one of {allowed}, got {value!r}") from None


def _check_schema(data: dict[str, Any]) -> None:
    version = data.get("schema")
    if version != SCHEMA_VERSION:
        raise EventError("schema", f"unsupported schema version {version!r} (expected 1)")


try:  # both extras install orjson (several times faster here); a bare install works without
    import orjson

    json_loads: Callable[[bytes | str], Any] = orjson.loads
    _dumps: Callable[..., bytes] | None = orjson.dumps
    _DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY

    def _compact_json(item: Any) -> bytes:
        return orjson.dumps(item)
except ImportError:  # pragma: no cover - installs without extras
    json_loads = json.loads
    _dumps = None
    _DUMP_OPTIONS = 0

    def _compact_json(item: Any) -> bytes:
        return json.dumps(item, separators=(",", ":")).encode()


def _decode_object(payload: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(payload, dict):
        return payload
    try:
        data = json_loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventError("payload", f"not valid UTF-8 JSON ({exc})") from None
    if not isinstance(data, dict):
        raise EventError("payload", f"expected a JSON object, got {type(data).__name__}")
    return data


def _wire_value(value: object) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def _wire_dict(obj: Any) -> dict[str, Any]:
    """A dataclass as JSON-ready values: times as ISO strings, enums as their values."""
    return {f.name: _wire_value(getattr(obj, f.name)) for f in fields(obj)}


def _encode(obj: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON. With orjson (both extras install it) a non-finite float inside
    ``attrs`` is written as null; the validated fields (score, value, times) never are one."""
    if _dumps is not None:
        return _dumps(obj, option=_DUMP_OPTIONS)
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# -- Event ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """Something a detector saw, at one site, at one time (schema: ``schemas/rs.events.json``)."""

    kind: str
    site_id: str
    source_id: str
    ts: datetime
    severity: Severity
    score: float
    district: str = ""
    point_id: str | None = None
    zone: str | None = None
    value: float | None = None
    unit: str | None = None
    model: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    snapshot: str | None = None
    event_id: str = field(default_factory=new_event_id)
    detected_at: datetime = field(default_factory=utc_now)
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", to_utc(self.ts, "ts"))
        object.__setattr__(self, "detected_at", to_utc(self.detected_at, "detected_at"))
        object.__setattr__(self, "severity", Severity(self.severity))
        _check_score_and_kind(self.score, self.kind)

    def to_dict(self) -> dict[str, Any]:
        # Spelled out rather than _wire_dict: the edge encodes every event it makes.
        return {
            "kind": self.kind, "site_id": self.site_id, "source_id": self.source_id,
            "ts": format_time(self.ts), "severity": self.severity.value, "score": self.score,
            "district": self.district, "point_id": self.point_id, "zone": self.zone,
            "value": self.value, "unit": self.unit, "model": self.model, "attrs": self.attrs,
            "snapshot": self.snapshot, "event_id": self.event_id,
            "detected_at": format_time(self.detected_at), "schema": self.schema,
        }

    def to_json(self) -> bytes:
        return _encode(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str | dict[str, Any]) -> Event:
        """Decode and validate; raises :class:`EventError` naming the first bad field."""
        data = _decode_object(payload)
        get = data.get
        if get("schema") != SCHEMA_VERSION:
            _check_schema(data)
        attrs = get("attrs") or {}
        if not isinstance(attrs, dict):
            raise EventError("attrs", f"expected an object, got {type(attrs).__name__}")
        score = _number(data, "score", required=True)
        values: dict[str, Any] = {"schema": SCHEMA_VERSION, "attrs": attrs, "score": score}
        # The workers decode every event: a valid text field costs one inline check, and
        # only a doubtful one goes through _text for its error message.
        for name, required, max_len in _EVENT_TEXT:
            text = get(name)
            if text.__class__ is str and len(text) <= max_len and (text or not required):
                values[name] = text
            else:
                values[name] = _text(data, name, required=required, max_len=max_len)
        values["district"] = values["district"] or ""
        values["ts"] = parse_time(get("ts"), "ts")
        values["detected_at"] = parse_time(get("detected_at"), "detected_at")
        severity = get("severity")
        values["severity"] = ((_SEVERITIES.get(severity) if severity.__class__ is str else None)
                              or _enum(data, "severity", Severity))
        values["value"] = _number(data, "value", required=False)
        # The validators give UTC millisecond times and a Severity, so the object is
        # assembled directly: __post_init__ would only normalise them again.
        return cls._assemble(**values)

    @classmethod
    def _assemble(cls, **values: Any) -> Event:
        _check_score_and_kind(values["score"], values["kind"])
        new = object.__new__(cls)
        for name, slot in _EVENT_SLOTS:
            slot.__set__(new, values[name])
        return new


def _check_score_and_kind(score: float, kind: str) -> None:
    if not 0.0 <= score <= 1.0 or math.isnan(score):
        raise EventError("score", f"must be within [0, 1], got {score}")
    if "." not in kind:
        raise EventError("kind", f"expected '<family>.<name>' (sensor.threshold ...), got {kind!r}")


_EVENT_FIELDS = tuple(f.name for f in fields(Event))
# Text fields of an event on the wire: (name, required, max length).
_EVENT_TEXT = (
    ("event_id", True, 64), ("kind", True, 64), ("site_id", True, 64), ("district", False, 256),
    ("source_id", True, 128), ("point_id", False, 256), ("zone", False, 256),
    ("unit", False, 32), ("model", False, 256), ("snapshot", False, 1024),
)
_SEVERITIES = {s.value: s for s in Severity}
# The slot descriptors set fields of a frozen instance directly (twice as fast as
# object.__setattr__, which the workers would pay 17 times per event).
_EVENT_SLOTS: tuple[tuple[str, Any], ...] = tuple((n, getattr(Event, n)) for n in _EVENT_FIELDS)


# -- Alert ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One action in an alert's history: an operator's, or the system's (``clear``)."""

    action: str  # an ActionKind value, or the system's clear | unshelve-expired
    by: str
    at: datetime
    comment: str = ""
    action_id: str = ""
    revision: int = 0  # the alert revision the action produced
    role: str = ""  # the actor's console role, for the audit
    action_taken: str = ""  # what was done about it (resolve)

    def to_dict(self) -> dict[str, Any]:
        return _wire_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ActionRecord:
        if not isinstance(data, dict):
            raise EventError("lifecycle.history", "expected action objects")
        return cls(action=str(data.get("action", "")), by=str(data.get("by", "")),
                   at=parse_time(data.get("at"), "lifecycle.history.at"),
                   comment=str(data.get("comment") or ""),
                   action_id=str(data.get("action_id") or ""),
                   revision=_count(data, "revision", "lifecycle.history.revision"),
                   role=str(data.get("role") or ""),
                   action_taken=str(data.get("action_taken") or ""))


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Where an alert stands: typed fields the lifecycle code and the command center read."""

    opened_at: datetime | None = None
    acknowledged_at: datetime | None = None
    cleared_at: datetime | None = None  # the condition ended (e.g. a silent device is back)
    published_event_at: datetime | None = None  # event time of the last published change
    held: int = 0  # changes held back by update_interval_s since the last published revision
    history: tuple[ActionRecord, ...] = ()
    last_action: ActionRecord | None = None
    claimed_by: str = ""  # the operator who took it on (claim / assign)
    shelved_until: datetime | None = None  # while shelved: when it comes back by itself
    shelved_from: str = ""  # while shelved: the status it returns to

    def to_dict(self) -> dict[str, Any]:
        times = {n: format_time(v) if v is not None else None for n, v in (
            ("opened_at", self.opened_at), ("acknowledged_at", self.acknowledged_at),
            ("cleared_at", self.cleared_at), ("published_event_at", self.published_event_at),
            ("shelved_until", self.shelved_until))}
        return {**times, "held": self.held, "history": [h.to_dict() for h in self.history],
                "last_action": self.last_action.to_dict() if self.last_action else None,
                "claimed_by": self.claimed_by, "shelved_from": self.shelved_from}

    @classmethod
    def from_dict(cls, data: Any) -> Lifecycle:
        if not isinstance(data, dict):
            raise EventError("lifecycle", f"expected an object, got {type(data).__name__}")
        history = data.get("history") or []
        if not isinstance(history, list):
            raise EventError("lifecycle.history", "expected a list of actions")
        last = data.get("last_action")

        def when(name: str) -> datetime | None:
            value = data.get(name)
            return None if value is None else parse_time(value, f"lifecycle.{name}")

        return cls(opened_at=when("opened_at"), acknowledged_at=when("acknowledged_at"),
                   cleared_at=when("cleared_at"), published_event_at=when("published_event_at"),
                   held=_count(data, "held", "lifecycle.held"),
                   history=tuple(ActionRecord.from_dict(h) for h in history),
                   last_action=ActionRecord.from_dict(last) if last else None,
                   claimed_by=str(data.get("claimed_by") or ""),
                   shelved_until=when("shelved_until"),
                   shelved_from=str(data.get("shelved_from") or ""))

    @classmethod
    def from_legacy_attrs(cls, attrs: dict[str, Any]) -> Lifecycle:
        """The lifecycle of an alert kept before it had typed fields (``attrs`` keys in ms)."""
        def when(name: str) -> datetime | None:
            value = attrs.get(name)
            return None if value is None else parse_time(value, f"attrs.{name}")

        old = attrs.get("history") or []
        if not isinstance(old, list):
            raise EventError("attrs.history", "expected a list of actions")
        history = tuple(ActionRecord.from_dict(h) for h in old)
        last = attrs.get("last_action")
        return cls(opened_at=when("opened_ms"), acknowledged_at=when("acknowledged_ms"),
                   cleared_at=when("cleared_ms"), published_event_at=when("published_ms"),
                   held=_count(attrs, "held", "attrs.held"), history=history,
                   last_action=ActionRecord.from_dict(last) if last else None)


def _count(data: dict[str, Any], name: str, where: str) -> int:
    """A non-negative integer field (absent: 0), or an EventError naming it."""
    value = data.get(name) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise EventError(where, f"expected a non-negative integer, got {value!r}"[:200])
    return value


LEGACY_LIFECYCLE_ATTRS = ("opened_ms", "acknowledged_ms", "cleared_ms", "published_ms", "held",
                          "history", "last_action")


@dataclass(frozen=True, slots=True)
class Alert:
    """A correlated, explained finding for the command center (``schemas/rs.alerts.json``)."""

    rule: str
    site_id: str
    severity: Severity
    first_ts: datetime
    last_ts: datetime
    event_ids: tuple[str, ...]
    explanation: str
    district: str = ""
    status: AlertStatus = AlertStatus.OPEN
    alert_id: str = field(default_factory=new_event_id)
    revision: int = 1  # +1 on every change; (alert_id, revision) identifies one state
    updated_at: datetime = field(default_factory=utc_now)
    attrs: dict[str, Any] = field(default_factory=dict)  # the rule's details (scope key, figures)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        for name in ("first_ts", "last_ts", "updated_at"):
            object.__setattr__(self, name, to_utc(getattr(self, name), name))
        object.__setattr__(self, "severity", Severity(self.severity))
        object.__setattr__(self, "status", AlertStatus(self.status))
        object.__setattr__(self, "event_ids", tuple(self.event_ids))
        if self.last_ts < self.first_ts:
            raise EventError("last_ts", "must not be before first_ts")
        if not self.explanation:
            raise EventError("explanation", "must explain why the alert fired")
        if isinstance(self.revision, bool) or not isinstance(self.revision, int) or self.revision < 1:
            raise EventError("revision", f"expected a positive integer, got {self.revision!r}")

    def to_dict(self) -> dict[str, Any]:
        return {**{f: _wire_value(getattr(self, f)) for f in _ALERT_PLAIN},
                "lifecycle": self.lifecycle.to_dict()}

    def to_json(self) -> bytes:
        return _encode(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str | dict[str, Any]) -> Alert:
        data = _decode_object(payload)
        _check_schema(data)
        event_ids = data.get("event_ids")
        if not isinstance(event_ids, list) or not all(isinstance(e, str) for e in event_ids):
            raise EventError("event_ids", "expected a list of event id strings")
        attrs = data.get("attrs") or {}
        if not isinstance(attrs, dict):
            raise EventError("attrs", f"expected an object, got {type(attrs).__name__}")
        if "lifecycle" in data:
            lifecycle = Lifecycle.from_dict(data["lifecycle"])
        else:  # kept (in a worker's state) before the typed fields
            lifecycle = Lifecycle.from_legacy_attrs(attrs)
            attrs = {k: v for k, v in attrs.items() if k not in LEGACY_LIFECYCLE_ATTRS}
        return cls(
            alert_id=_text(data, "alert_id", max_len=64),
            rule=_text(data, "rule", max_len=128),
            site_id=_text(data, "site_id", max_len=64),
            district=_text(data, "district", required=False) or "",
            severity=_enum(data, "severity", Severity),
            status=_enum(data, "status", AlertStatus),
            first_ts=parse_time(data.get("first_ts"), "first_ts"),
            last_ts=parse_time(data.get("last_ts"), "last_ts"),
            updated_at=parse_time(data.get("updated_at"), "updated_at"),
            revision=data.get("revision", 1),
            event_ids=tuple(event_ids),
            explanation=_text(data, "explanation", max_len=4096),
            attrs=attrs,
            lifecycle=lifecycle,
        )


_ALERT_PLAIN = tuple(f.name for f in fields(Alert) if f.name != "lifecycle")


# -- AlertAction ----------------------------------------------------------------------------


class ActionKind(StrEnum):
    """What an operator can do. The first six act on one alert (``alert_id``); the last four
    on a device or risk point of the site (``target``) and answer with its condition record."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"  # needs a reason (comment) and the action taken
    COMMENT = "comment"
    CLAIM = "claim"  # take it on, or assign it (assignee)
    SHELVE = "shelve"  # needs a reason and duration_s (capped by correlation.max_shelve_s)
    UNSHELVE = "unshelve"
    OUT_OF_SERVICE = "out_of_service"  # a device under repair: needs a reason, supervisor role
    RETURN_TO_SERVICE = "return_to_service"
    SUPPRESS = "suppress"  # suppressed by design (a unit shut down): reason, supervisor role
    UNSUPPRESS = "unsuppress"

    @property
    def on_target(self) -> bool:
        return self in _TARGET_ACTIONS


_TARGET_ACTIONS = frozenset({ActionKind.OUT_OF_SERVICE, ActionKind.RETURN_TO_SERVICE,
                             ActionKind.SUPPRESS, ActionKind.UNSUPPRESS})


@dataclass(frozen=True, slots=True)
class AlertAction:
    """An operator's action on an alert, sent on ``rs.alert-actions`` keyed by ``site_id``."""

    alert_id: str
    site_id: str
    action: ActionKind
    by: str
    comment: str = ""
    at: datetime = field(default_factory=utc_now)
    action_id: str = field(default_factory=new_event_id)
    role: str = ""  # the actor's console role (city_operator, supervisor, ...)
    action_taken: str = ""  # resolve: what was done
    duration_s: float | None = None  # shelve: for how long
    assignee: str = ""  # claim: who takes it on (empty: the actor)
    target: str = ""  # out_of_service / suppress: the device or risk point id
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", to_utc(self.at, "at"))
        object.__setattr__(self, "action", ActionKind(self.action))
        if not self.by:
            raise EventError("by", "must name who acted")
        if self.action.on_target and not self.target:
            raise EventError("target", f"{self.action.value} needs the device or risk point id")
        if not self.action.on_target and not self.alert_id:
            raise EventError("alert_id", f"{self.action.value} needs the alert id")
        if self.duration_s is not None and not (
                math.isfinite(self.duration_s) and self.duration_s > 0):
            raise EventError("duration_s", "must be a positive number of seconds")

    def to_dict(self) -> dict[str, Any]:
        return _wire_dict(self)

    def to_json(self) -> bytes:
        return _encode(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str | dict[str, Any]) -> AlertAction:
        data = _decode_object(payload)
        _check_schema(data)
        kind = _enum(data, "action", ActionKind)
        return cls(
            action_id=_text(data, "action_id", max_len=64),
            alert_id=_text(data, "alert_id", required=not kind.on_target, max_len=64) or "",
            site_id=_text(data, "site_id", max_len=64),
            action=kind,
            by=_text(data, "by", max_len=128),
            comment=_text(data, "comment", required=False, max_len=2000) or "",
            at=parse_time(data.get("at"), "at"),
            role=_text(data, "role", required=False, max_len=32) or "",
            action_taken=_text(data, "action_taken", required=False, max_len=2000) or "",
            duration_s=_number(data, "duration_s", required=False),
            assignee=_text(data, "assignee", required=False, max_len=128) or "",
            target=_text(data, "target", required=kind.on_target, max_len=64) or "",
        )


# -- readings and heartbeats ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadingSummary:
    """One sensor's readings over ``window_s`` seconds from ``ts``, for ``rs.readings``."""

    site_id: str
    source_id: str
    metric: str
    unit: str
    ts: datetime
    window_s: int
    min: float
    max: float
    mean: float
    last: float
    count: int
    point_id: str = ""
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", to_utc(self.ts, "ts"))
        if self.count < 1:
            raise EventError("count", "must be at least 1")
        if not self.min <= self.mean <= self.max or not self.min <= self.last <= self.max:
            raise EventError("mean", "min <= mean, last <= max does not hold")

    def to_json(self) -> bytes:
        return _encode(_wire_dict(self))

    @classmethod
    def from_json(cls, payload: bytes | str | dict[str, Any]) -> ReadingSummary:
        data = _decode_object(payload)
        _check_schema(data)
        numbers = [_number(data, n, required=True) or 0.0 for n in ("min", "max", "mean", "last")]
        count, window = data.get("count"), data.get("window_s")
        if isinstance(count, bool) or not isinstance(count, int):
            raise EventError("count", f"expected an integer, got {type(count).__name__}")
        if window not in (1, 60):
            raise EventError("window_s", f"expected 1 or 60, got {window!r}")
        return cls(
            site_id=_text(data, "site_id", max_len=64), source_id=_text(data, "source_id", max_len=128),
            metric=_text(data, "metric", max_len=64), unit=_text(data, "unit", max_len=32),
            point_id=_text(data, "point_id", required=False) or "",
            ts=parse_time(data.get("ts"), "ts"), window_s=window, count=count,
            min=numbers[0], max=numbers[1], mean=numbers[2], last=numbers[3],
        )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A device or camera is alive (``rs.health``); ``attrs`` carries its own figures."""

    site_id: str
    source_id: str
    ts: datetime
    attrs: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", to_utc(self.ts, "ts"))

    def to_json(self) -> bytes:
        return _encode(_wire_dict(self))

    @classmethod
    def from_json(cls, payload: bytes | str | dict[str, Any]) -> Heartbeat:
        data = _decode_object(payload)
        _check_schema(data)
        attrs = data.get("attrs") or {}
        if not isinstance(attrs, dict):
            raise EventError("attrs", f"expected an object, got {type(attrs).__name__}")
        return cls(site_id=_text(data, "site_id", max_len=64),
                   source_id=_text(data, "source_id", max_len=128),
                   ts=parse_time(data.get("ts"), "ts"), attrs=attrs)


# -- evidence (snapshots) -------------------------------------------------------------------

MAX_EVIDENCE_BYTES = 512 * 1024  # base64 in JSON keeps the record under Kafka's 1 MB
EVIDENCE_TYPES = {"image/jpeg": b"\xff\xd8\xff", "video/webm": b"\x1a\x45\xdf\xa3"}  # leading bytes
EVIDENCE_KINDS = {"snapshot": "image/jpeg", "clip": "video/webm"}  # kind -> its content type


@dataclass(frozen=True, slots=True)
class Evidence:
    """A snapshot (JPEG) or a short clip (WebM) of a video event, shipped from the edge to the
    center (``rs.evidence``).

    ``event_id`` names the event it shows (at most one of each kind per event: a clip belongs
    to the incident's start event); ``sha256`` is the hex digest of ``data``, checked on
    decoding, so a record damaged or altered on the way is refused rather than stored.
    """

    event_id: str
    site_id: str
    source_id: str
    ts: datetime
    content_type: str
    sha256: str
    data: bytes
    kind: str = "snapshot"
    schema: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", to_utc(self.ts, "ts"))
        if self.kind not in EVIDENCE_KINDS:
            raise EventError("kind", f"expected one of {', '.join(EVIDENCE_KINDS)}, got {self.kind!r}")
        magic = EVIDENCE_TYPES.get(self.content_type)
        if magic is None or EVIDENCE_KINDS[self.kind] != self.content_type:
            raise EventError("content_type", f"a {self.kind} is {EVIDENCE_KINDS[self.kind]}, "
                             f"got {self.content_type!r}")
        if len(self.data) > MAX_EVIDENCE_BYTES:
            raise EventError("data_b64", f"{len(self.data)} bytes, more than {MAX_EVIDENCE_BYTES}")
        if not self.data.startswith(magic):
            raise EventError("data_b64", f"not a {self.content_type} file")
        if hashlib.sha256(self.data).hexdigest() != self.sha256:
            raise EventError("sha256", "does not match the data (damaged or altered on the way)")

    @classmethod
    def of(cls, event_id: str, site_id: str, source_id: str, ts: datetime, data: bytes,
           kind: str = "snapshot") -> Evidence:
        return cls(event_id, site_id, source_id, ts, EVIDENCE_KINDS.get(kind, ""),
                   hashlib.sha256(data).hexdigest(), data, kind)

    def to_json(self) -> bytes:
        wire = {k: v for k, v in _wire_dict(self).items() if k != "data"}
        return _encode({**wire, "data_b64": base64.b64encode(self.data).decode()})

    @classmethod
    def from_json(cls, payload: bytes | str | dict[str, Any]) -> Evidence:
        data = _decode_object(payload)
        _check_schema(data)
        text = _text(data, "data_b64", max_len=(MAX_EVIDENCE_BYTES * 4) // 3 + 4)
        try:
            body = base64.b64decode(text, validate=True)
        except ValueError:
            raise EventError("data_b64", "not valid base64") from None
        digest = _text(data, "sha256", max_len=64)
        if len(digest) != 64:
            raise EventError("sha256", "expected 64 hex digits")
        kind = _text(data, "kind", required=False, max_len=32) or "snapshot"
        return cls(event_id=_text(data, "event_id", max_len=64),
                   site_id=_text(data, "site_id", max_len=64),
                   source_id=_text(data, "source_id", max_len=128),
                   ts=parse_time(data.get("ts"), "ts"),
                   content_type=_text(data, "content_type", max_len=64),
                   sha256=digest, data=body, kind=kind)


# -- event batches on the wire --------------------------------------------------------------

MAX_BATCH_EVENTS = 500


def encode_event_batch(events: Sequence[Event]) -> bytes:
    """Several events of one site in one Kafka record: ``{"schema": 1, "events": [...]}``.

    The edge packs what is waiting for one site when it sends a backlog; a record with a
    single event stays a plain event object. Consumers read both with
    :func:`decode_event_record`.
    """
    return frame_event_batch([e.to_json() for e in events])


_BATCH_HEAD = b'{"schema":%d,"events":[' % SCHEMA_VERSION


def frame_event_batch(encoded: Sequence[bytes]) -> bytes:
    """The batch record around events already encoded as JSON objects: the one writer of the
    batch framing (the edge's forwarder packs its stored events with it, without decoding)."""
    if not encoded:
        raise ValueError("an event batch holds at least one event")
    return _BATCH_HEAD + b",".join(encoded) + b"]}"


def decode_event_record(payload: bytes | None) -> list[tuple[bytes, Event | EventError]]:
    """Every event of one record, each with either the event or its error, and the bytes of a
    bad one (for its dead letter; a good event inside a batch gets ``b""``: re-encoding every
    event just in case cost a fifth of the decoding; use :func:`payload_of`).

    A bad event inside a batch costs only itself; an undecodable record yields one error.
    """
    if payload is None:
        return [(b"", EventError("payload", "empty record (tombstone)"))]
    try:
        data = _decode_object(payload)
    except EventError as exc:
        return [(payload, exc)]
    items = data.get("events")
    if items is None:
        return [(payload, _try_event(data))]
    if not isinstance(items, list):
        return [(payload, EventError("events", "expected a list of events"))]
    try:
        _check_schema(data)
    except EventError as exc:
        return [(payload, exc)]
    out: list[tuple[bytes, Event | EventError]] = []
    for item in items:
        if not isinstance(item, dict):
            out.append((_compact_json(item), EventError("payload", "batch item is not a JSON object")))
            continue
        decoded = _try_event(item)
        out.append((_compact_json(item) if isinstance(decoded, EventError) else b"", decoded))
    return out


def payload_of(raw: bytes, item: Event | EventError | None) -> bytes:
    """The bytes to put in a dead letter for a decoded item (see :func:`decode_event_record`)."""
    return raw or (item.to_json() if isinstance(item, Event) else b"")


def _try_event(data: dict[str, Any]) -> Event | EventError:
    try:
        return Event.from_json(data)
    except EventError as exc:
        return exc
