"""What the evaluations score is what the data folder holds (the blind set is bigger)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from riskstream.evaluation import nab, ped2, skab, tep


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


def test_a_nab_file_with_a_value_that_is_no_number_is_named_with_its_line(tmp_path: Path) -> None:
    root = tmp_path / "nab"
    (root / "labels").mkdir(parents=True)
    (root / "data" / "cat").mkdir(parents=True)
    (root / "labels" / "combined_windows.json").write_text(json.dumps({"cat/a.csv": []}))
    (root / "data" / "cat" / "a.csv").write_text(
        "timestamp,value\n2014-01-01 00:00:00,1.5\n2014-01-01 00:05:00,abc\n")
    with pytest.raises(ValueError, match=r"cat/a.csv line 3: value 'abc' is not a number"):
        nab.load_series(tmp_path)


def test_a_tep_or_skab_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "d01_te.dat"
    bad.write_text(" ".join(["1.0"] * len(tep.FEATURES)) + "\n1.0 2.0 abc\n")
    with pytest.raises(ValueError, match=r"^d01_te.dat: .*row 2"):
        tep.read(bad)
    (tmp_path / "valve1").mkdir()
    experiment = tmp_path / "valve1" / "0.csv"
    header = ";".join(["datetime", *skab.FEATURES, "anomaly", "changepoint"])
    good = ";".join(["2020-03-09 10:14:33", *["1.0"] * len(skab.FEATURES), "0", "0"])
    experiment.write_text(f"{header}\n{good}\n{good.replace(';1.0;', ';oops;', 1)}\n")
    with pytest.raises(ValueError, match=r"^valve1/0.csv line 3: could not convert .*'oops'"):
        skab.read_experiment(experiment)
