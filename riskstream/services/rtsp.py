"""Start/stop the GStreamer RTSP server (``rtsp_gst.py``) under the system Python.

GStreamer's Python bindings come from Debian (python3-gi, gir1.2-gst-rtsp-server-1.0), not
from PyPI, so the server runs in the system interpreter; nothing else of riskstream needs them.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from riskstream.services.process import ServiceError, free_port, port_open, spawn, stop_pid, wait_until

APT_HINT = (
    "sudo apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp "
    "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad"
)
SCRIPT = Path(__file__).with_name("rtsp_gst.py")


def system_python() -> str:
    """The system Python 3 that can import GStreamer's RTSP server bindings, or a clear error."""
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if not candidate:
            continue
        check = subprocess.run(
            [
                candidate,
                "-c",
                "import gi; gi.require_version('GstRtspServer', '1.0'); "
                "from gi.repository import GstRtspServer",
            ],
            capture_output=True,
        )
        if check.returncode == 0:
            return candidate
    raise ServiceError(f"GStreamer RTSP server bindings not found; install them with: {APT_HINT}")


@dataclass
class RtspServer:
    pid: int
    port: int
    log: Path

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount.lstrip('/')}"

    def stop(self) -> None:
        stop_pid(self.pid, timeout=5)


def start_rtsp(mounts: dict[str, Path], log: Path, port: int | None = None) -> RtspServer:
    """Serve each H.264 MP4 clip at ``rtsp://127.0.0.1:PORT/<mount>`` (played once per client)."""
    port = port or free_port()
    cmd = [system_python(), str(SCRIPT), "--port", str(port)]
    for mount, clip in mounts.items():
        cmd += ["--mount", f"/{mount.lstrip('/')}={clip}"]
    pid = spawn(cmd, log)
    wait_until(lambda: port_open("127.0.0.1", port), pid=pid, what="RTSP server", log_path=log, timeout=20)
    return RtspServer(pid, port, log)
