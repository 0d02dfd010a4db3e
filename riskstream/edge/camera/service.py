"""All cameras of one edge box: a capture thread and an analysis thread per camera, their
counters, heartbeats and Prometheus metrics. Events go to ``emit`` (the agent's outbox), the
clips around incident starts to ``ship`` (the same outbox, rs.evidence)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from riskstream.config.schema import Camera, Config, env_secret
from riskstream.edge import metrics
from riskstream.edge.camera.analyzer import CameraAnalyzer
from riskstream.edge.camera.capture import CameraCapture, redact, with_password
from riskstream.edge.camera.clips import ClipRecorder, PendingClip, encode_clip
from riskstream.edge.camera.frame_queue import LatestFrames
from riskstream.edge.camera.snapshots import SnapshotStore
from riskstream.edge.camera.timing import Backoff
from riskstream.events import MAX_EVIDENCE_BYTES, Event, Evidence, Heartbeat

log = logging.getLogger(__name__)


class CameraWorker:
    """Capture + analysis of one camera."""

    def __init__(
        self,
        cam: Camera,
        cfg: Config,
        snapshots: SnapshotStore,
        emit: Callable[[list[Event]], None],
        stop: threading.Event,
        ship: Callable[[list[Evidence]], None] | None = None,
    ) -> None:
        district = {s.id: s.district for s in cfg.sites}[cam.site]
        self.camera, self.emit, self._stop, self.ship = cam, emit, stop, ship
        self.snapshots = snapshots
        pre, post = cfg.edge.clip_s
        self.clips = ClipRecorder(pre, post) if ship is not None and post > 0 else None
        self.queue = LatestFrames(capacity=2)
        first, largest = cfg.edge.camera_backoff_s
        self.capture = CameraCapture(
            cam.id,
            with_password(cam.url, env_secret(cam.password_env)),
            cam.fps,
            self.queue,
            Backoff(first, largest),
            stop,
            open_timeout_s=cam.open_timeout_s,
            read_timeout_s=cam.read_timeout_s,
            realtime=cam.realtime,
        )
        models = Path(cfg.edge.models_dir) if cfg.edge.models_dir else None
        self.analyzer = CameraAnalyzer(
            cam, district, snapshots, cfg.edge.incident_update_s, cfg.edge.incident_end_s, models
        )
        self._thread = threading.Thread(target=self._analyse_loop, name=f"analyse-{cam.id}", daemon=True)
        self._reported = {"frames": 0, "sampled": 0, "dropped": 0, "reconnects": 0}
        self._beat_counts = dict(self._reported)
        self._beat_at = time.monotonic()
        self.analysis_seconds = 0.0
        self.errors = 0

    def start(self) -> None:
        self.capture.start()
        self._thread.start()

    def join(self, timeout: float) -> None:
        self.queue.close()
        self.capture.join(timeout)
        self._thread.join(timeout)

    def _analyse_loop(self) -> None:
        cam = self.camera.id
        while not self._stop.is_set():
            frame = self.queue.get(timeout=0.5)
            try:
                if frame is None:
                    events = self.analyzer.expire(time.time())
                else:
                    start = time.perf_counter()
                    events = self.analyzer.analyse(frame)
                    spent = time.perf_counter() - start
                    self.analysis_seconds += spent
                    metrics.CAMERA_ANALYSED.labels(cam).inc()
                    metrics.CAMERA_ANALYSIS_SECONDS.labels(cam).inc(spent)
            except Exception:  # one bad frame or detector bug must not stop the camera
                self.errors += 1
                log.exception("camera %s: analysis failed on a frame; continuing", cam)
                continue
            if events:
                self.emit(events)
            if frame is not None and self.clips is not None:
                self._record(frame.wall, frame.image, events)
        self.emit(self.analyzer.close())
        if self.clips is not None:
            self._send_clips(self.clips.close_all())

    def _record(self, wall: float, image: object, events: list[Event]) -> None:
        assert self.clips is not None
        done = self.clips.add(wall, image)
        for event in events:
            if event.attrs.get("phase") == "start":
                self.clips.open(event, wall)
        self._send_clips(done)

    def _send_clips(self, clips: list[PendingClip]) -> None:
        for clip in clips:
            e = clip.event
            path = self.snapshots.root / e.source_id / e.ts.strftime("%Y%m%d") / f"{e.event_id}.webm"
            try:
                data = encode_clip(clip, path, MAX_EVIDENCE_BYTES)
                evidence = Evidence.of(e.event_id, e.site_id, e.source_id, e.ts, data, "clip")
            except (OSError, ValueError) as exc:
                metrics.EVIDENCE.labels("invalid").inc()
                log.error("camera %s: clip of event %s not made: %s", e.source_id, e.event_id, exc)
                continue
            metrics.EVIDENCE.labels("queued").inc()
            assert self.ship is not None
            self.ship([evidence])

    def sync_metrics(self) -> None:
        s, cam = self.capture.stats, self.camera.id
        now = {
            "frames": s.frames_in,
            "sampled": s.frames_sampled,
            "dropped": self.queue.dropped,
            "reconnects": s.reconnects,
        }
        metrics.CAMERA_FRAMES.labels(cam).inc(now["frames"] - self._reported["frames"])
        metrics.CAMERA_DROPPED.labels(cam).inc(now["dropped"] - self._reported["dropped"])
        metrics.CAMERA_RECONNECTS.labels(cam).inc(now["reconnects"] - self._reported["reconnects"])
        metrics.CAMERA_STREAMING.labels(cam).set(1 if s.state == "streaming" else 0)
        self._reported = now

    def heartbeat(self, ts: datetime, outbox_depth: int) -> Heartbeat:
        s = self.capture.stats
        elapsed = max(time.monotonic() - self._beat_at, 1e-6)
        counts = {
            "frames": s.frames_in,
            "sampled": s.frames_sampled,
            "dropped": self.queue.dropped,
            "reconnects": s.reconnects,
        }
        rate = {k: (counts[k] - self._beat_counts[k]) / elapsed for k in ("frames", "sampled")}
        self._beat_counts, self._beat_at = counts, time.monotonic()
        return Heartbeat(
            site_id=self.camera.site,
            source_id=self.camera.id,
            ts=ts,
            attrs={
                "device": "camera",
                "state": s.state,
                "url": redact(self.camera.url),
                "fps_in": round(rate["frames"], 2),
                "fps_analysed": round(rate["sampled"], 2),
                "frames_dropped": counts["dropped"],
                "reconnects": counts["reconnects"],
                "last_error": s.last_error,
                "last_frame_at": s.last_frame_wall,
                "analysis_errors": self.errors,
                "outbox_depth": outbox_depth,
            },
        )


class CameraService:
    def __init__(self, cfg: Config, state_dir: Path, emit: Callable[[list[Event]], None],
                 ship: Callable[[list[Evidence]], None] | None = None) -> None:
        root = Path(cfg.edge.snapshot_dir)
        snapshots = SnapshotStore(root if root.is_absolute() else state_dir / root)
        self._stop = threading.Event()
        self.workers = [CameraWorker(cam, cfg, snapshots, emit, self._stop, ship)
                        for cam in cfg.cameras]

    def start(self) -> None:
        for w in self.workers:
            w.start()
        if self.workers:
            log.info(
                "cameras: %d started (%s)", len(self.workers), ", ".join(w.camera.id for w in self.workers)
            )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for w in self.workers:
            w.join(timeout)

    def heartbeats(self, ts: datetime, outbox_depth: int) -> list[Heartbeat]:
        beats = []
        for w in self.workers:
            w.sync_metrics()
            beats.append(w.heartbeat(ts, outbox_depth))
        return beats

    def sync_metrics(self) -> None:
        for w in self.workers:
            w.sync_metrics()
