"""The camera path's pure parts, and one camera's analysis on a generated clip (no network)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from riskstream.config.schema import Camera
from riskstream.demo.clips import walker_frames
from riskstream.edge.camera.analyzer import CameraAnalyzer, working_copy
from riskstream.edge.camera.capture import redact
from riskstream.edge.camera.frame_queue import Frame, LatestFrames
from riskstream.edge.camera.incidents import IncidentTracker
from riskstream.edge.camera.snapshots import SnapshotStore
from riskstream.edge.camera.timing import Backoff, FrameSampler

WALL = 1_796_000_000.0  # capture wall times (2026-11-30): event times must be plausible


def test_backoff_doubles_to_the_cap_and_resets() -> None:
    b = Backoff(0.5, 4.0)
    assert [b.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    b.reset()
    assert b.next_delay() == 0.5
    with pytest.raises(ValueError):
        Backoff(2.0, 1.0)


def test_sampler_keeps_the_analysis_rate_of_any_stream() -> None:
    s = FrameSampler(5.0)
    taken = sum(s.take(i / 25.0) for i in range(250))  # 10 s of a 25 fps stream
    assert taken == 50
    jittery = FrameSampler(5.0)
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.06, 1000))
    assert abs(sum(jittery.take(float(t)) for t in times) - times[-1] * 5) <= 2
    restarted = FrameSampler(5.0)
    assert restarted.take(100.0) and restarted.take(0.0)  # a stream that starts over


def test_latest_frames_drops_the_oldest_and_counts() -> None:
    q = LatestFrames(capacity=2)
    for i in range(5):
        q.put(Frame(None, float(i), 0.0))
    assert q.dropped == 3 and len(q) == 2
    first, second = q.get(0.1), q.get(0.1)
    assert first is not None and second is not None and (first.t, second.t) == (3.0, 4.0)
    start = time.monotonic()
    assert q.get(0.2) is None and time.monotonic() - start >= 0.15


def test_incident_lifecycle() -> None:
    tracker = IncidentTracker(update_s=2.0, end_s=1.0)
    key = ("cam", "video.motion", "gate")
    phases = []
    for t in np.arange(0.0, 5.01, 0.2):
        phases += [c.phase for c in tracker.observe(key, True, 0.8, float(t))]
    assert phases == ["start", "update", "update"]
    assert tracker.expire(5.5) == []
    ended = tracker.expire(6.1)
    assert [c.phase for c in ended] == ["end"] and ended[0].incident.detections == 26
    assert [c.phase for c in tracker.observe(key, True, 0.9, 7.0)] == ["start"]  # a new incident


def test_redact_hides_camera_passwords() -> None:
    assert redact("rtsp://admin:s3cret@10.0.0.5:554/ch1") == "rtsp://admin:***@10.0.0.5:554/ch1"
    assert redact("/videos/a.mp4") == "/videos/a.mp4"


def test_analyzer_turns_a_walker_into_one_intrusion_incident(tmp_path: Path) -> None:
    cam = Camera.model_validate(
        {
            "id": "cam-1",
            "site": "s",
            "url": "x.mp4",
            "fps": 10,
            "zones": [{"name": "gate", "polygon": [[0, 0.3], [1, 0.3], [1, 1], [0, 1]], "restricted": True}],
        }
    )
    analyzer = CameraAnalyzer(cam, "d", SnapshotStore(tmp_path), update_s=2.0, end_s=0.5)
    events = []
    for i, image in enumerate(walker_frames(640, 360, fps=10, seconds=6)):
        events += analyzer.analyse(Frame(image, i / 10, WALL + 1000.0 + i / 10))
    events += analyzer.close()
    intrusions = [e for e in events if e.kind == "video.intrusion"]
    assert intrusions[0].attrs["phase"] == "start"
    assert len({e.attrs["incident_id"] for e in intrusions}) == 1
    assert intrusions[-1].attrs["phase"] == "end" and intrusions[-1].attrs["duration_s"] >= 2.0
    snap = intrusions[0].snapshot
    assert snap and Path(snap).is_file() and Path(snap).read_bytes()[:2] == b"\xff\xd8"
    assert not [e for e in events if e.kind == "video.tamper"]
    assert analyzer.gated_out > 0  # still frames before and after the walker skip the heavy models


def test_a_tamper_incident_says_which_check_fired(tmp_path: Path) -> None:
    """The analyser asks an explaining detector (the tamper detector) for its reason."""
    cam = Camera.model_validate({"id": "cam-2", "site": "s", "url": "x.mp4", "fps": 10,
                                 "detectors": [{"type": "tamper"}]})
    analyzer = CameraAnalyzer(cam, "d", SnapshotStore(tmp_path), update_s=2.0, end_s=0.5)
    scene = next(iter(walker_frames(320, 240, fps=10, seconds=1))).astype(int)
    rng = np.random.default_rng(0)
    live = [np.clip(scene + rng.integers(-3, 4, scene.shape), 0, 255).astype(np.uint8) for _ in range(30)]
    frames = live + [np.full_like(live[0], 5)] * 10  # 3 s of a live view, then a covered lens
    events = []
    for i, image in enumerate(frames):
        events += analyzer.analyse(Frame(image, i / 10, WALL + 2000.0 + i / 10))
    starts = [e for e in events if e.kind == "video.tamper" and e.attrs["phase"] == "start"]
    assert len(starts) == 1 and starts[0].attrs["reason"] == "covered"


def test_working_copy_is_small() -> None:
    assert working_copy(np.zeros((720, 1280, 3), np.uint8)).shape == (180, 320)


def test_camera_password_goes_into_the_url_only_at_connect_time() -> None:
    from riskstream.edge.camera.capture import with_password

    url = with_password("rtsp://viewer@10.0.0.5:554/ch1", "p@ss/word")
    assert url == "rtsp://viewer:p%40ss%2Fword@10.0.0.5:554/ch1"
    assert "p%40ss" not in redact(url)
    assert with_password("rtsp://10.0.0.5/ch1", None) == "rtsp://10.0.0.5/ch1"


def test_scene_recipe_trains_a_camera_model_that_the_analyzer_loads(tmp_path: Path) -> None:
    from riskstream.demo.clips import walker_clip
    from riskstream.training.recipes import VERSION, scene_from_clips

    normal = walker_clip(tmp_path / "normal.mp4", seconds=8.0, fps=25.0)
    card = scene_from_clips([normal], "scene-cam-1", 5.0, tmp_path / "models")
    assert card.training["analysis_fps"] == 5.0 and card.training["frame_pairs"] >= 30
    cam = Camera.model_validate(
        {
            "id": "cam-1",
            "site": "s",
            "url": "x.mp4",
            "fps": 5,
            "detectors": [{"type": "scene_model", "model": f"scene-cam-1@{VERSION}"}],
        }
    )
    analyzer = CameraAnalyzer(cam, "d", None, update_s=5.0, end_s=1.0, models_root=tmp_path / "models")
    rng = np.random.default_rng(0)
    from riskstream.demo.clips import scene

    base = scene(640, 360)
    events = []
    for i in range(15):  # a big dark object racing across: nothing like the slow walker
        frame = base.copy()
        frame[100:260, (40 * i) % 560 : (40 * i) % 560 + 80] = 10
        noise = rng.integers(-3, 4, frame.shape, dtype=np.int16)
        image = np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)
        events += analyzer.analyse(Frame(image, i / 5, WALL + 2000.0 + i / 5))
    assert [e.attrs["phase"] for e in events if e.kind == "video.anomaly"][:1] == ["start"]
    assert events[0].model == f"scene-cam-1@{VERSION}"


def test_camera_probe_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from riskstream.cli import main
    from riskstream.demo.clips import walker_clip

    clip = walker_clip(tmp_path / "c.mp4", seconds=2.0, fps=10.0)
    assert main(["camera", "probe", str(clip), "--seconds", "2"]) == 0
    assert "20 frames of 640x360" in capsys.readouterr().out
    assert main(["camera", "probe", "rtsp://127.0.0.1:1/none", "--seconds", "1"]) == 1
    assert "FAILED rtsp://127.0.0.1:1/none: cannot open" in capsys.readouterr().out


def test_zone_motion_without_zones_is_a_config_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="zone_motion needs zones"):
        Camera.model_validate({"id": "c", "site": "s", "url": "x", "detectors": [{"type": "zone_motion"}]})


def test_exclusion_mask_hides_motion_inside_a_zone(tmp_path: Path) -> None:
    zone = {"name": "yard", "polygon": [[0, 0.3], [1, 0.3], [1, 1], [0, 1]], "restricted": True}
    masked = Camera.model_validate(
        {
            "id": "c",
            "site": "s",
            "url": "x",
            "fps": 10,
            "zones": [zone],
            "exclude": [[[0, 0.3], [1, 0.3], [1, 1], [0, 1]]],
        }
    )
    open_cam = masked.model_copy(update={"exclude": []})
    kinds = {}
    for cam in (masked, open_cam):
        analyzer = CameraAnalyzer(cam, "d", None, update_s=2.0, end_s=0.5)
        events = [
            e
            for i, img in enumerate(walker_frames(640, 360, fps=10, seconds=6))
            for e in analyzer.analyse(Frame(img, i / 10, WALL + 3000.0 + i / 10))
        ]
        kinds[bool(cam.exclude)] = [e.kind for e in events]
    assert "video.intrusion" in kinds[False]  # the walker crosses the zone at mid-height and below
    assert "video.intrusion" not in kinds[True]  # ... which the mask excludes


def test_the_motion_gate_opens_for_one_small_fast_object_and_not_for_noise() -> None:
    """The gate once compared a whole thumbnail's mean difference with 1.0 grey level: one
    small fast object on a still view never opened it, nor did half of Ped2's crowded frames."""
    from tests.unit.models.synthetic import noisy, textured_scene

    cam = Camera.model_validate({"id": "c", "site": "s", "url": "x", "fps": 10,
                                 "detectors": [{"type": "fall"}]})
    rng = np.random.default_rng(0)
    scene = textured_scene(240, 360)
    still = CameraAnalyzer(cam, "d", None, update_s=5.0, end_s=1.0)
    for i in range(20):
        still.analyse(Frame(noisy(scene, rng), i / 10, WALL + i / 10))
    assert still.gated_out == 19  # every frame after the first: nothing moves
    moving = CameraAnalyzer(cam, "d", None, update_s=5.0, end_s=1.0)
    for i in range(20):
        frame = scene.copy()
        frame[150:172, 10 + 12 * i:18 + 12 * i] = 230  # 8 x 22 px, 12 px per frame
        moving.analyse(Frame(noisy(frame, rng), i / 10, WALL + i / 10))
    assert moving.gated_out == 0
