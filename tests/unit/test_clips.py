"""Clips around a video incident's start: which frames go in (before and after the start),
that the WebM a browser will play decodes back to them, and that it always fits rs.evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from riskstream.edge.camera.clips import MAX_WIDTH, ClipRecorder, encode_clip
from riskstream.events import Evidence
from riskstream.testing import make_event


def frame(i: int, w: int = 320, h: int = 240) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, (i * 10) % w: (i * 10) % w + 20] = 255  # a bar that moves: frames differ
    return img


def test_a_clip_holds_the_seconds_before_and_after_the_start() -> None:
    rec = ClipRecorder(pre_s=1.0, post_s=2.0)
    start = make_event(kind="video.intrusion", attrs={"phase": "start"})
    done = []
    for i in range(50):  # 10 frames/s
        wall = 100.0 + i / 10
        done += rec.add(wall, frame(i))
        if i == 20:
            rec.open(start, wall)
    (clip,) = done
    walls = [w for w, _ in clip.frames]
    assert clip.event is start
    assert min(walls) >= 102.0 - 1.0 - 1e-9 and max(walls) <= 102.0 + 2.0 + 1e-9
    assert len(walls) == 31 and walls == sorted(walls)  # 1 s before, the start, 2 s after


def test_an_unfinished_clip_is_sent_at_stop_and_a_too_short_one_never() -> None:
    rec = ClipRecorder(pre_s=0.0, post_s=10.0)
    rec.add(0.0, frame(0))
    rec.open(make_event(), 0.0)
    assert rec.close_all() == []  # one frame is a snapshot, not a clip
    rec.add(1.0, frame(1))
    rec.open(make_event(), 1.0)
    for i in range(2, 6):
        rec.add(float(i), frame(i))
    (clip,) = rec.close_all()
    assert len(clip.frames) == 5


def test_the_webm_decodes_back_and_fits(tmp_path: Path) -> None:
    import cv2

    rec = ClipRecorder(pre_s=1.0, post_s=1.0)
    start = make_event(kind="video.intrusion", site_id="plant-a", source_id="cam-1")
    done = []
    for i in range(30):
        done += rec.add(i / 5, frame(i, 1280, 720))  # shrunk to MAX_WIDTH on the way in
        if i == 10:
            rec.open(start, i / 5)
    (clip,) = done
    data = encode_clip(clip, tmp_path / "c.webm", 512 * 1024)
    evidence = Evidence.of(start.event_id, "plant-a", "cam-1", start.ts, data, "clip")
    assert Evidence.from_json(evidence.to_json()).content_type == "video/webm"
    cap = cv2.VideoCapture(str(tmp_path / "c.webm"))
    decoded = 0
    while cap.read()[0]:
        decoded += 1
    assert decoded == len(clip.frames)
    assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == MAX_WIDTH
    noisy = [(w, np.random.default_rng(i).integers(0, 256, img.shape, np.uint8))
             for i, (w, img) in enumerate(clip.frames)]
    clip.frames = noisy
    small = encode_clip(clip, tmp_path / "n.webm", 60_000)  # noise: must shrink to fit
    assert len(small) <= 60_000 and small.startswith(b"\x1a\x45\xdf\xa3")


def test_the_center_keeps_and_serves_a_clip_apart_from_the_snapshot(tmp_path: Path) -> None:
    from riskstream.center.evidence import EvidenceStore

    store = EvidenceStore(tmp_path / "ev", 30, 2**20, ["plant-a"])
    webm = b"\x1a\x45\xdf\xa3 webm"
    jpeg = b"\xff\xd8\xff\xe0 jpeg"
    t = make_event().ts
    assert store.accept(Evidence.of("E1", "plant-a", "cam", t, jpeg).to_json()).result == "stored"
    assert store.accept(Evidence.of("E1", "plant-a", "cam", t, webm, "clip").to_json()).result == "stored"
    clip = store.get("E1", "clip")
    assert clip is not None and clip.path.suffix == ".webm" and store.read(clip) == webm
    assert store.known(["E1", "E2"]) == {"E1": {"snapshot", "clip"}}
    mislabelled = Evidence.of("E2", "plant-a", "cam", t, jpeg).to_json().replace(
        b'"kind":"snapshot"', b'"kind":"clip"')
    assert "content_type" in store.accept(mislabelled).reason
