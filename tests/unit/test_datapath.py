from pathlib import Path

import pytest

from riskstream.evaluation.datapath import DataMissing, data_root, dataset_dir


def test_explicit_data_path_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DataMissing, match="no such folder"):
        data_root(tmp_path / "missing")
    (tmp_path / "nab").mkdir()
    assert dataset_dir("nab", tmp_path) == tmp_path / "nab"
    with pytest.raises(DataMissing, match="skab data not found"):
        dataset_dir("skab", tmp_path)


def test_environment_variable_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKSTREAM_DATA", str(tmp_path))
    assert data_root() == tmp_path
