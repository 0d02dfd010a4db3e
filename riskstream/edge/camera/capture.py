"""One camera's capture loop: open with timeouts, grab every frame, decode only the sampled
ones, hand them to analysis through a dropping queue, and reconnect with backoff when the
stream cannot be opened or stops delivering. A failing camera only ever affects itself.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from riskstream.edge.camera.frame_queue import Frame, LatestFrames
from riskstream.edge.camera.timing import Backoff, FrameSampler

log = logging.getLogger(__name__)


def redact(url: str) -> str:
    """The URL without its password, for logs and heartbeats."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` in its user part (percent-encoded); unchanged without one."""
    if not password:
        return url
    parts = urlsplit(url)
    if parts.hostname is None:
        raise ValueError(f"camera URL {redact(url)} has no host to authenticate against")
    user = parts.username or ""
    netloc = f"{user}:{quote(password, safe='')}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def is_live(url: str) -> bool:
    return url.split("://", 1)[0].lower() in {"rtsp", "rtsps", "http", "https", "rtmp", "udp", "tcp"}


def open_stream(url: str, open_timeout_s: float, read_timeout_s: float) -> Any:
    import cv2

    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(read_timeout_s * 1000),
    ]
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
    if not cap.isOpened():
        cap.release()
        return None
    return cap


@dataclass(slots=True)
class CaptureStats:
    state: str = "connecting"  # connecting | streaming | lost | stopped
    frames_in: int = 0
    frames_sampled: int = 0
    reconnects: int = 0
    last_error: str = ""
    last_frame_wall: float = 0.0
    width: int = 0
    height: int = 0
    errors: list[str] = field(default_factory=list)


class CameraCapture(threading.Thread):
    def __init__(
        self,
        camera_id: str,
        url: str,
        fps: float,
        queue: LatestFrames,
        backoff: Backoff,
        stop: threading.Event,
        *,
        open_timeout_s: float = 10.0,
        read_timeout_s: float = 5.0,
        realtime: bool = False,
    ) -> None:
        super().__init__(name=f"capture-{camera_id}", daemon=True)
        self.camera_id, self.url, self.fps = camera_id, url, fps
        self.queue, self.backoff, self._stop_event = queue, backoff, stop
        self.open_timeout_s, self.read_timeout_s, self.realtime = open_timeout_s, read_timeout_s, realtime
        self.stats = CaptureStats()

    def _fail(self, reason: str) -> None:
        self.stats.state, self.stats.last_error = "lost", reason
        self.stats.reconnects += 1
        delay = self.backoff.next_delay()
        log.error(
            "camera %s: %s; reconnect %d in %.1f s", self.camera_id, reason, self.stats.reconnects, delay
        )
        self._stop_event.wait(delay)

    def run(self) -> None:
        safe_url = redact(self.url)
        while not self._stop_event.is_set():
            self.stats.state = "connecting"
            cap = open_stream(self.url, self.open_timeout_s, self.read_timeout_s)
            if cap is None:
                self._fail(
                    f"cannot open {safe_url} (refused, unreachable or timed out after "
                    f"{self.open_timeout_s:.0f} s)"
                )
                continue
            delivered = self._stream(cap)
            cap.release()
            if self._stop_event.is_set():
                break
            what = "ended" if delivered else "delivered no frame"
            self._fail(
                f"stream {safe_url} {what} (no frame within {self.read_timeout_s:.0f} s or end of stream)"
            )
        self.stats.state = "stopped"

    def _stream(self, cap: Any) -> int:
        import cv2

        live = is_live(self.url)
        source_fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        sampler = FrameSampler(self.fps)
        started, n = time.monotonic(), 0
        while not self._stop_event.is_set():
            if not cap.grab():
                return n
            n += 1
            if n == 1:
                self.stats.state = "streaming"
                self.backoff.reset()
                log.info(
                    "camera %s: streaming %s at %.1f fps (analysing %.1f fps)",
                    self.camera_id,
                    redact(self.url),
                    source_fps,
                    self.fps,
                )
            now = time.time()
            self.stats.frames_in += 1
            self.stats.last_frame_wall = now
            t = time.monotonic() - started if live or self.realtime else n / source_fps
            if sampler.take(t):
                ok, image = cap.retrieve()
                if ok and image is not None:
                    self.stats.frames_sampled += 1
                    self.stats.height, self.stats.width = image.shape[:2]
                    self.queue.put(Frame(image, t, now))
            if self.realtime and not live:
                time.sleep(max(0.0, started + n / source_fps - time.monotonic()))
        return n
