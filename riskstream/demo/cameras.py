"""Camera streams for the demo: each configured camera gets a generated walker clip served the
way its URL says (rtsp:// by the GStreamer RTSP server, http:// as MJPEG), on free ports; the
demo runs the edge on a copy of the config that points at them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from riskstream.demo.clips import walker_clip
from riskstream.services.mjpeg import MjpegServer
from riskstream.services.process import ServiceError, free_port
from riskstream.services.rtsp import start_rtsp


def serve_demo_cameras(
    config_path: Path, state_dir: Path
) -> tuple[Path, list[Callable[[], None]], list[str]]:
    """(config to run, stop functions, one line per camera) — the config unchanged if none."""
    data = yaml.safe_load(config_path.read_text())
    cameras = data.get("cameras") or []
    if not cameras:
        return config_path, [], []
    clips = state_dir / "demo-clips"
    stops: list[Callable[[], None]] = []
    lines: list[str] = []
    rtsp_mounts: dict[str, Path] = {}
    for i, cam in enumerate(cameras):
        clip = walker_clip(clips / f"{cam['id']}.mp4", seconds=12.0, seed=i)
        if urlsplit(str(cam["url"])).scheme.startswith("rtsp"):
            rtsp_mounts[cam["id"]] = clip
        else:
            server = MjpegServer(clip, free_port(), loop=True).start()
            stops.append(server.stop)
            cam["url"] = server.url
            lines.append(f"{cam['id']}: MJPEG {server.url}")
    if rtsp_mounts:
        try:
            rtsp = start_rtsp(rtsp_mounts, state_dir / "logs" / "rtsp.log")
        except ServiceError as exc:
            for stop in stops:
                stop()
            raise ServiceError(f"demo cameras: {exc}") from None
        stops.append(rtsp.stop)
        for cam in cameras:
            if cam["id"] in rtsp_mounts:
                cam["url"] = rtsp.url(cam["id"])
                lines.append(
                    f"{cam['id']}: RTSP {cam['url']} (a 12 s clip; the camera reconnects when it ends)"
                )
    out = state_dir / "demo-config.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out, stops, lines
