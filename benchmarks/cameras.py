"""Camera-path benchmarks, side by side in one run (results: the "camera" part of
benchmarks/results/edge.json).

1. CPU per frame on a 720p 25 fps H.264 clip analysed at 5 fps: decode-only (every frame
   grabbed, the sampled ones converted, exactly what capture does) next to the full analysis
   (the same plus working copy, motion gate, zone motion, tamper and the ONNX scene model).
   Goal: full <= 1.5 x decode-only. Process CPU time, so decoder threads count too.
2. Cameras per box: N cameras, each a 720p 25 fps stream paced in real time (a file played at
   its own rate, as the RTSP tests stream it) through the real CameraWorker (capture thread +
   analysis thread), for a fixed time. A camera keeps up when it received >= 97 % of the frames
   the stream produced and analysis dropped <= 2 % of the sampled frames. Goal: >= 15.

The clip is real footage (the three UCSD Ped2 test clips, upscaled to 1280x720 and re-timed to
25 fps) when ../shared/data is present, else a generated scene with a walker.

Run: .venv/bin/python -m benchmarks.cameras [--cameras 10,15,20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import report, save_part
from riskstream.config.schema import Camera, Config
from riskstream.demo.clips import walker_clip, write_h264
from riskstream.edge.camera.analyzer import CameraAnalyzer
from riskstream.edge.camera.frame_queue import Frame
from riskstream.edge.camera.service import CameraWorker
from riskstream.edge.camera.snapshots import SnapshotStore
from riskstream.edge.camera.timing import FrameSampler
from riskstream.evaluation.datapath import DataMissing, dataset_dir
from riskstream.evaluation.video_io import jpeg_folder

DETECTORS = [{"type": "zone_motion"}, {"type": "tamper"}, {"type": "scene_model", "model": "scene-ped2@2"}]
ZONES = [{"name": "walkway", "polygon": [[0, 0.3], [1, 0.3], [1, 1], [0, 1]], "restricted": True}]


def make_clip(folder: Path) -> tuple[Path, str]:
    try:
        frames = dataset_dir("video/ucsd_ped2") / "testing" / "frames"
    except DataMissing:
        return walker_clip(folder / "walker720.mp4", 1280, 720, 25.0, 20.0), "generated walker scene"
    import cv2

    def upscaled() -> Iterator[np.ndarray]:
        for clip in sorted(frames.iterdir()):
            for frame in jpeg_folder(clip):
                yield cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_LINEAR)

    out = write_h264(upscaled(), folder / "ped2_720p25.mp4", 25.0, 1280, 720)
    return out, "UCSD Ped2 test clips 01, 02, 04 upscaled to 1280x720, 25 fps"


def camera(cid: str, url: str, realtime: bool) -> Camera:
    return Camera.model_validate(
        {
            "id": cid,
            "site": "s",
            "url": url,
            "fps": 5,
            "zones": ZONES,
            "detectors": DETECTORS,
            "realtime": realtime,
        }
    )


def cpu_per_frame(clip: Path, analyse: bool, snapshots: Path) -> dict[str, float]:
    import cv2

    analyzer = CameraAnalyzer(camera("c", str(clip), False), "d", SnapshotStore(snapshots), 5.0, 3.0)
    cap = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
    sampler = FrameSampler(5.0)
    frames = sampled = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while cap.grab():
        frames += 1
        if sampler.take(frames / fps):
            ok, image = cap.retrieve()
            sampled += 1
            if analyse and ok:
                analyzer.analyse(Frame(image, frames / fps, time.time()))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    cap.release()
    return {
        "frames": frames,
        "analysed": sampled if analyse else 0,
        "cpu_s": round(cpu, 3),
        "cpu_ms_per_stream_frame": round(1000 * cpu / frames, 3),
        "wall_s": round(wall, 3),
    }


def cameras_per_box(clip: Path, n: int, seconds: float, snapshots: Path) -> dict[str, Any]:
    cfg = Config.model_validate(
        {
            "sites": [{"id": "s", "name": "S", "district": "d", "kind": "chemical_plant"}],
            "cameras": [camera(f"cam-{i:02d}", str(clip), True).model_dump() for i in range(n)],
            "edge": {"incident_update_s": 5.0},
        }
    )
    stop = threading.Event()
    store = SnapshotStore(snapshots)
    workers = [CameraWorker(cam, cfg, store, lambda _events: None, stop) for cam in cfg.cameras]
    cpu0 = time.process_time()
    for w in workers:
        w.start()
    time.sleep(seconds)
    elapsed = seconds
    stats = [
        (
            w.capture.stats.frames_in,
            w.capture.stats.frames_sampled,
            w.queue.dropped,
            w.capture.stats.reconnects,
        )
        for w in workers
    ]
    cpu = time.process_time() - cpu0
    stop.set()
    for w in workers:
        w.join(5)
    expected = 25.0 * (elapsed - 0.3)  # opening a file takes a moment
    kept = [fin >= 0.97 * expected and drop <= 0.02 * max(samp, 1) for fin, samp, drop, _ in stats]
    return {
        "cameras": n,
        "seconds": seconds,
        "keeping_up": sum(kept),
        "min_fps_in": round(min(s[0] for s in stats) / elapsed, 2),
        "mean_fps_in": round(sum(s[0] for s in stats) / len(stats) / elapsed, 2),
        "analysed_fps_mean": round(sum(s[1] for s in stats) / len(stats) / elapsed, 2),
        "dropped_total": sum(s[2] for s in stats),
        "cpu_cores_used": round(cpu / elapsed, 2),
    }


def plot_per_box(per_box: list[dict[str, Any]], path: Path) -> None:
    """Cameras vs CPU cores used and the slowest camera's input rate (25 = keeping up)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["cameras"] for r in per_box]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(n, [r["cpu_cores_used"] for r in per_box], "o-", label="CPU cores used")
    ax.axhline(2.0, color="grey", lw=0.5)
    ax.set_xlabel("720p 25 fps cameras (analysed at 5 fps)")
    ax.set_ylabel("cores")
    ax2 = ax.twinx()
    ax2.plot(n, [r["min_fps_in"] for r in per_box], "s--", color="tab:orange", label="slowest camera fps in")
    ax2.set_ylabel("fps in (stream: 25)")
    ax2.set_ylim(0, 27)
    fig.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", default="10,15,20,25,30", help="camera counts to try (comma-separated)")
    parser.add_argument("--seconds", type=float, default=20.0, help="run time per camera count")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rs-cam-bench-") as tmp:
        folder = Path(tmp)
        clip, source = make_clip(folder)
        decode = cpu_per_frame(clip, analyse=False, snapshots=folder / "snap")
        full = cpu_per_frame(clip, analyse=True, snapshots=folder / "snap")
        ratio = full["cpu_s"] / decode["cpu_s"]
        per_box = []
        for n in (int(x) for x in args.cameras.split(",")):
            result = cameras_per_box(clip, n, args.seconds, folder / "snap")
            per_box.append(result)
            print(
                f"  {n} cameras: {result['keeping_up']} keep up, min {result['min_fps_in']} fps in, "
                f"{result['dropped_total']} analysis drops, {result['cpu_cores_used']} cores",
                flush=True,
            )
    supported = max((r["cameras"] for r in per_box if r["keeping_up"] == r["cameras"]), default=0)
    figures = {
        "clip": source,
        "resolution": "1280x720",
        "stream_fps": 25,
        "analysis_fps": 5,
        "decode_only": decode,
        "full_analysis": full,
        "ratio_full_to_decode": round(ratio, 3),
        "analysis_ms_per_analysed_frame": round(
            1000 * (full["cpu_s"] - decode["cpu_s"]) / max(full["analysed"], 1), 3
        ),
        "cameras_per_box": per_box,
        "cameras_supported": supported,
    }
    out = save_part("edge", "camera", figures)
    plot_per_box(per_box, out.parent / "cameras_per_box.png")
    report(
        "Edge camera path (720p 25 fps, analysed at 5 fps)",
        [
            ("decode-only CPU ms per stream frame", f"{decode['cpu_ms_per_stream_frame']:.2f}"),
            ("full analysis CPU ms per stream frame", f"{full['cpu_ms_per_stream_frame']:.2f}"),
            ("ratio full / decode-only", f"{ratio:.3f}  (goal <= 1.5)"),
            ("analysis CPU ms per analysed frame", f"{figures['analysis_ms_per_analysed_frame']:.2f}"),
            ("cameras kept up with (largest N tried)", f"{supported}  (goal >= 15)"),
        ],
    )
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
