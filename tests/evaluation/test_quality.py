"""Detection quality on the shared labelled data, through the same code as ``riskstream eval``.

These assert the figures riskstream reaches today with its data-independent thresholds, so a
change that makes a detector worse fails here (the full figures go to quality.json)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from riskstream.evaluation import nab, ped2, skab, tamper, tep, urfd
from riskstream.evaluation.report import markdown, merge, public

from .conftest import need


def test_nab_beats_the_windowed_gaussian_baseline_widely() -> None:
    need("nab")
    r = nab.evaluate()
    for profile in ("standard", "reward_low_FP_rate", "reward_low_FN_rate"):
        assert r["detector"][profile]["score"] >= r["baseline"][profile]["score"] + 10, profile
    assert r["detector"]["standard"]["score"] >= 30
    quiet = r["quiet_variant"]  # reported beside it, and still well above the baseline
    assert quiet["standard"]["score"] >= r["baseline"]["standard"]["score"] + 10
    assert quiet["name"].endswith("/conditional-ranks")
    for figure in (r["detector"]["standard"], r["detector"]["leave_one_file_out"]["standard"]):
        lo, hi = figure["interval_90"]  # how far the figure moves over resampled files
        assert lo <= figure["score"] <= hi and lo < hi
    lo, hi = quiet["minus_default_interval_90"]["fixed"]
    assert lo <= quiet["standard"]["score"] - r["detector"]["standard"]["score"] <= hi
    assert "files resampled, 90 %" in markdown({"nab": public(r)})


def test_skab_against_pca() -> None:
    need("skab")
    r = skab.evaluate()
    d, b = r["detector"], r["baseline"]
    # The goal is F1 >= 0.80 with FAR <= 15 %; seeds 0-5 give F1 0.800-0.816, so a
    # recipe change that costs more than seed noise fails here.
    assert d["f1"] > b["f1"] and d["f1"] >= 0.79
    assert d["far"] <= 0.15 and d["mar"] < b["mar"]
    # Following the operating level exists to cut the false alarms of a drifting rig.
    assert r["online_level"]["far"] < d["far"] and r["online_level"]["f1"] >= 0.75


def test_skab_shipped_artifact_transfer_is_scored_on_every_row() -> None:
    need("skab")
    from riskstream.models.artifacts import resolve_model

    experiments = skab.load_experiments()
    t = skab.shipped_transfer(resolve_model("sensor-skab@2"), experiments)
    assert t["tp"] + t["fp"] + t["fn"] + t["tn"] == sum(len(e.rows) for e in experiments)
    assert t["tp"] + t["fn"] == sum(int(e.anomaly.sum()) for e in experiments)
    assert t["name"].startswith("shipped sensor-skab@2")


def test_tep_faults_1_and_4_are_detected() -> None:
    need("tep")
    r = tep.evaluate()
    for fault in ("fault_1", "fault_4"):
        assert r["detector"][fault]["detection_rate"] >= 0.95
    # False alarms over all 1,280 normal rows: a fault run's 160 normal rows hold one alarm
    # episode or none, which is the training seed's luck more than the detector's quality.
    for rows in ("normal", "all_normal_rows"):
        assert r["detector"][rows]["false_alarm_rate"] < r["baseline"][rows]["false_alarm_rate"]
    spread = r["seeds"]  # the recipe over seeds 0..4, seed 0 being the figures above
    assert spread["seeds"] == tep.SEEDS
    assert spread["per_seed"][0]["fault_1"] == r["detector"]["fault_1"]["detection_rate"]
    assert spread["fault_1"]["worst"] >= 0.95
    pca_false_alarms = r["baseline"]["all_normal_rows"]["false_alarm_rate"]
    assert spread["all_normal_false_alarm_rate"]["worst"] < pca_false_alarms
    assert "TEP over training seeds 0-4" in markdown({"tep": public(r)})


def test_ped2_frame_auc_and_the_speed_figure_is_measured() -> None:
    need("video/ucsd_ped2")
    r = ped2.evaluate()
    assert r["detector"]["frame_auc"] >= 93.0
    assert r["detector"]["frame_auc"] > r["baseline"]["frame_auc"]
    # Every clip with normal frames is ranked well on its own (scene-ped2@2 scored 76 on 01).
    assert all(c["auc"] >= 95.0 for c in r["clips"].values() if c["auc"] is not None)
    # Speed is a benchmark figure, not a test threshold on a shared machine: the >= 200
    # frames/s goal is reported by `riskstream eval ped2` (benchmarks/results/quality.md).
    assert r["detector"]["analysed_fps_one_core"] > 0
    assert r["settings_cv"]["chosen"]["family"] == "speed"


def test_ped2_shipped_artifact_is_as_good() -> None:
    need("video/ucsd_ped2")
    from riskstream.models.artifacts import resolve_model

    r = ped2.evaluate(model_dir=resolve_model("scene-ped2@3"))
    assert r["detector"]["frame_auc"] >= 93.0
    assert r["previous"]["name"] == "scene-ped2@2"


def test_urfd_fall_alert_within_one_second_and_none_before() -> None:
    need("video/urfd")
    d = urfd.evaluate()["detector"]
    assert d["alerts_before_fall"] == 0
    assert d["delay_s"] is not None and 0 <= d["delay_s"] <= 1.0


def test_results_files(tmp_path: Path) -> None:
    need("video/urfd")
    merged = merge(tmp_path / "quality.json", "urfd", urfd.evaluate(), "riskstream eval urfd")
    assert "_scores" not in merged["urfd"] and merged["urfd"]["command"] == "riskstream eval urfd"
    assert "URFD fall-01" in markdown(merged)


def test_camera_tamper_on_real_footage() -> None:
    need("video/ucsd_ped2")
    r = tamper.evaluate()
    d, b = r["detector"], r["baseline"]
    assert len(r["clips"]) >= 3 and d["untouched"]["false_alarms"] == 0
    for kind in tamper.KINDS:  # tamper@1 found 58 % of the view shifts (edges of a busy view)
        assert d[kind]["detection_rate"] >= 0.95, kind
    for kind in tamper.KINDS:  # never worse than a video-loss check on the same clips
        assert d[kind]["detection_rate"] >= b[kind]["detection_rate"], kind
    assert b["defocused"]["detection_rate"] == 0.0  # the baseline cannot see focus


def test_a_turned_camera_on_a_second_scene() -> None:
    """tamper@2's view-shift scale was chosen looking at Ped2: on URFD's indoor scene (a person
    close to the lens, falling) the untouched clip stays quiet and the turned one is seen."""
    from riskstream.evaluation.video_io import video_frames
    from riskstream.models.video.tamper import TamperDetector

    root = need("video/urfd")
    fps, frames = video_frames(root / "fall-01-cam0.mp4")
    clip = list(frames)
    onset = len(clip) // 3

    def view_shift(kind: str) -> list[float]:
        det = TamperDetector(fps=fps)
        out = []
        for frame in tamper.tampered(clip, kind, onset) if kind != "none" else clip:
            det.score(frame)
            out.append(det.last.get("view_shift", 0.0))
        return out

    assert max(view_shift("none")) < 0.5
    turned = view_shift("view_shifted")
    assert max(turned[:onset]) < 0.5 and float(np.median(turned[onset:])) >= 0.5
