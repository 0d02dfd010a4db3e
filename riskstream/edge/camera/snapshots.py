"""JPEG snapshots of video events, one file per event, written atomically."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any


class SnapshotStore:
    def __init__(self, root: Path, quality: int = 85) -> None:
        self.root, self.quality = root, quality

    def save(self, camera_id: str, event_id: str, when: datetime, image: Any) -> str:
        """Write the frame; returns the path the event references (absolute)."""
        import cv2

        folder = self.root / camera_id / when.strftime("%Y%m%d")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{event_id}.jpg"
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError(f"cannot encode a snapshot for {camera_id}")
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(data))
        os.replace(tmp, path)
        return str(path.resolve())
