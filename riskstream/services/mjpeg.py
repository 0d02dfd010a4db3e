"""MJPEG over HTTP from a clip: the ``multipart/x-mixed-replace`` stream IP cameras serve.

Paced at the clip's frame rate; ``loop`` replays it forever, otherwise the response ends with
the clip (a camera that dies mid-way). Used by camera tests and benchmarks as a real HTTP
stream for OpenCV's FFmpeg backend.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BOUNDARY = "riskstreamframe"


def _jpeg_frames(clip: Path) -> tuple[float, list[bytes]]:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 10.0
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(bytes(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1]))
    cap.release()
    if not frames:
        raise ValueError(f"{clip}: no frames")
    return fps, frames


class MjpegServer:
    """Serves ``/stream.mjpg`` on 127.0.0.1:port in a background thread."""

    def __init__(self, clip: Path, port: int, loop: bool = True) -> None:
        fps, frames = _jpeg_frames(clip)
        server_self = self
        self.clients = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                return None

            def do_GET(self) -> None:
                if self.path != "/stream.mjpg":
                    self.send_error(404)
                    return
                server_self.clients += 1
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                try:
                    while True:
                        for jpg in frames:
                            start = time.monotonic()
                            self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                                             f"Content-Length: {len(jpg)}\r\n\r\n".encode() + jpg + b"\r\n")
                            time.sleep(max(0.0, 1.0 / fps - (time.monotonic() - start)))
                        if not loop:
                            return
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.url = f"http://127.0.0.1:{port}/stream.mjpg"
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mjpeg", daemon=True)

    def start(self) -> MjpegServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
