"""JPEG snapshots of video events, one file per event, written atomically, each small enough
to ship to the center on rs.evidence."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from riskstream.events import MAX_EVIDENCE_BYTES


def encode_bounded(image: Any, quality: int, limit: int) -> bytes:
    """JPEG of at most ``limit`` bytes (what rs.evidence carries): lower the quality, then
    halve the size, until it fits."""
    import cv2

    while True:
        for q in (quality, 70, 50):
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, q])
            if not ok:
                raise ValueError("cannot encode the frame as JPEG")
            if len(data) <= limit:
                return bytes(data)
        if min(image.shape[:2]) < 32:
            raise ValueError(f"a JPEG of this frame does not fit in {limit} bytes")
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2),
                           interpolation=cv2.INTER_AREA)


class SnapshotStore:
    def __init__(self, root: Path, quality: int = 85) -> None:
        self.root, self.quality = root, quality

    def save(self, camera_id: str, event_id: str, when: datetime, image: Any) -> str:
        """Write the frame; returns the path the event references (absolute)."""
        folder = self.root / camera_id / when.strftime("%Y%m%d")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{event_id}.jpg"
        data = encode_bounded(image, self.quality, MAX_EVIDENCE_BYTES)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return str(path.resolve())
