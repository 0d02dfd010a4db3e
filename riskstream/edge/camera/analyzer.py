"""Per-camera analysis of sampled frames (no threads, no I/O besides snapshots): a working copy
at most 320 px wide, a cheap motion gate, the configured video detectors, and incidents that
become events with a lifecycle (start / update / end) and a snapshot.

Zone motion, tamper and the scene model run on every analysed frame (tamper must see a frozen
or covered view even when nothing moves; the scene model's optical flow must see consecutive
frames, or a gap reads as speed); the person-down detector only runs while the gate sees
motion, since nothing can fall in a still picture.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from riskstream.config.schema import Camera
from riskstream.detectors import Context, Plugin, build, plugin_of
from riskstream.edge.camera.frame_queue import Frame
from riskstream.edge.camera.incidents import Change, IncidentTracker
from riskstream.edge.camera.snapshots import SnapshotStore
from riskstream.events import Event, Severity, new_event_id
from riskstream.models.base import ExplainingDetector
from riskstream.models.thresholding import ThresholdFilter

log = logging.getLogger(__name__)
WORK_WIDTH = 320
GATE_SIZE = (80, 45)
INTRUSION = "video.intrusion"  # zone motion in a restricted zone
# Motion for the gate: at least GATE_PIXELS thumbnail pixels changed by more than GATE_DIFF grey
# levels. (A mean difference over the whole thumbnail of 1.0 stayed below the level on half of
# Ped2's crowded walkway frames and on every frame of one small fast object on a still view.)
GATE_DIFF = 12
GATE_PIXELS = 3


@dataclass(slots=True)
class _Watch:
    """One thing a camera watches: a detector, its threshold filter and what its events are."""

    detector: Any
    plugin: Plugin
    kind: str
    severity: Severity
    zone: str
    flt: ThresholdFilter

    @property
    def gated(self) -> bool:
        return self.plugin.gated


def working_copy(image: np.ndarray) -> np.ndarray:
    """Grayscale, at most ``WORK_WIDTH`` wide: every detector works on this one copy (colour
    conversion first, at full size, is cheaper than shrinking three channels)."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = gray.shape[:2]
    if w <= WORK_WIDTH:
        return np.asarray(gray)
    size = (WORK_WIDTH, max(8, round(h * WORK_WIDTH / w)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA))


class CameraAnalyzer:
    def __init__(
        self,
        camera: Camera,
        district: str,
        snapshots: SnapshotStore | None,
        update_s: float,
        end_s: float,
        models_root: Path | None = None,
    ) -> None:
        self.camera, self.district, self.snapshots = camera, district, snapshots
        self._models_root = models_root
        self.incidents = IncidentTracker(update_s, end_s)
        self._watches = self._build(camera)
        self._gate_prev: np.ndarray | None = None
        self.analysed = 0
        self.gated_out = 0

    def _build(self, cam: Camera) -> list[_Watch]:
        watches = []
        zones = {z.name: z.polygon for z in cam.zones}
        context = Context(fps=cam.fps, zones=zones, exclude=cam.exclude, models_root=self._models_root)
        for spec in cam.detector_specs():
            plugin = plugin_of(spec)
            det = build(spec, context)
            det.warmup()
            if plugin.feeds == "zones":  # one watch per zone: each zone is its own incident
                for z in cam.zones:
                    kind, sev = ((INTRUSION, Severity.MAJOR) if z.restricted
                                 else (plugin.event, plugin.severity))
                    watches.append(_Watch(det, plugin, kind, sev, z.name, ThresholdFilter(spec.threshold)))
            else:
                watches.append(_Watch(det, plugin, plugin.event, plugin.severity, "",
                                      ThresholdFilter(spec.threshold)))
        return watches

    def _moving(self, work: np.ndarray) -> bool:
        import cv2

        thumb = cv2.resize(work, GATE_SIZE, interpolation=cv2.INTER_AREA)
        prev, self._gate_prev = self._gate_prev, thumb.astype(np.int16)
        return prev is None or int((np.abs(self._gate_prev - prev) > GATE_DIFF).sum()) >= GATE_PIXELS

    def analyse(self, frame: Frame) -> list[Event]:
        work = working_copy(frame.image)
        moving = self._moving(work)
        self.analysed += 1
        self.gated_out += not moving
        scores: dict[int, float] = {}
        zone_scores: dict[int, dict[str, float]] = {}
        changes: list[tuple[_Watch, Change]] = []
        for w in self._watches:
            if w.gated and not moving:
                score = 0.0
            elif w.plugin.feeds == "zones":
                key = id(w.detector)
                if key not in zone_scores:
                    zone_scores[key] = w.detector.zone_scores(work)
                score = zone_scores[key][w.zone]
            else:
                key = id(w.detector)
                if key not in scores:
                    scores[key] = w.detector.score(work)
                score = scores[key]
            w.flt.update(score)
            reason = w.detector.reason if isinstance(w.detector, ExplainingDetector) else ""
            attrs: dict[str, object] = {"reason": reason} if reason and score else {}
            for ch in self.incidents.observe(
                (self.camera.id, w.kind, w.zone), w.flt.above(score), score, frame.wall, attrs
            ):
                changes.append((w, ch))
        changes += [(self._watch_for(ch), ch) for ch in self.incidents.expire(frame.wall)]
        return [self._event(w, ch, frame) for w, ch in changes]

    def expire(self, now: float) -> list[Event]:
        return [self._event(self._watch_for(ch), ch, None) for ch in self.incidents.expire(now)]

    def close(self) -> list[Event]:
        return [self._event(self._watch_for(ch), ch, None) for ch in self.incidents.close_all()]

    def _watch_for(self, ch: Change) -> _Watch:
        _, kind, zone = ch.key
        return next(w for w in self._watches if w.kind == kind and w.zone == zone)

    def _event(self, w: _Watch, ch: Change, frame: Frame | None) -> Event:
        inc = ch.incident
        when = datetime.fromtimestamp(frame.wall if frame else inc.last_seen, UTC)
        event_id, snapshot = new_event_id(), None
        if frame is not None and ch.phase != "end" and self.snapshots is not None:
            try:
                snapshot = self.snapshots.save(self.camera.id, event_id, when, frame.image)
            except (OSError, ValueError) as exc:
                log.error("camera %s: snapshot not saved: %s", self.camera.id, exc)
        return Event(
            kind=w.kind,
            site_id=self.camera.site,
            district=self.district,
            source_id=self.camera.id,
            point_id=self.camera.point,
            zone=w.zone or None,
            ts=when,
            severity=w.severity,
            score=round(inc.peak if ch.phase == "end" else ch.score, 4),
            model=str(w.detector.name),
            attrs={
                "incident_id": inc.incident_id,
                "phase": ch.phase,
                "peak": round(inc.peak, 4),
                "detections": inc.detections,
                "duration_s": round(inc.last_seen - inc.started, 2),
                **inc.attrs,
            },
            snapshot=snapshot,
            event_id=event_id,
        )
