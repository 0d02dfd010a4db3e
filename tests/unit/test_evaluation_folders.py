"""What the evaluations score is what the data folder holds (the blind set is bigger)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from riskstream.evaluation import ped2, tep


def test_tep_scores_every_fault_run_in_the_folder(tmp_path: Path) -> None:
    for name in ("d00.dat", "d00_te.dat", "d02_te.dat", "d21_te.dat", "d04_te.dat", "d05.dat",
                 "notes_te.dat"):
        (tmp_path / name).write_text("0\n")
    assert tep.faults_present(tmp_path) == [2, 4, 21]


def test_ped2_labels_cover_the_clips_present_and_every_range(tmp_path: Path) -> None:
    (tmp_path / "testing" / "frames" / "01").mkdir(parents=True)
    (tmp_path / "testing" / "frames" / "03").mkdir(parents=True)
    (tmp_path / "ped2_testing_frame_labels.csv").write_text(
        "clip,n_frames,anomaly_first_frame_1based,anomaly_last_frame_1based\n"
        "01,10,3,4\n01,10,8,9\n02,10,1,10\n03,10,1,10\n")
    y = ped2.labels(tmp_path)
    assert sorted(y) == ["01", "03"]  # 02's frames are not here
    assert y["01"].tolist() == [0, 0, 1, 1, 0, 0, 0, 1, 1, 0]
    assert y["03"].all()


def test_a_clip_anomalous_in_every_frame_has_no_per_clip_auc() -> None:
    """`riskstream eval ped2` crashed on Ped2's full test set: 4 of its 12 clips are anomalous
    in every frame, and their per-clip AUC is undefined."""
    scores = np.array([0.1, 0.2, 0.9, 0.8])
    assert ped2.clip_auc(scores, np.ones(4, dtype=int)) is None
    assert ped2.clip_auc(scores, np.zeros(4, dtype=int)) is None
    assert ped2.clip_auc(scores, np.array([0, 0, 1, 1])) == 100.0
