"""Dataset loaders: row counts, columns, checksums and the download path."""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pandas as pd
import pytest

from sklearn_dwb.datasets import fetch_adult, fetch_compas, fetch_german, get_data_home
from sklearn_dwb.datasets._fetch import BASE_URL_VARIABLE

SHARED = get_data_home()


@pytest.fixture(autouse=True)
def _needs_shared_data():
    if not (SHARED / "adult" / "adult.data").exists():
        pytest.skip(f"datasets not found in {SHARED}; set SKLEARN_DWB_DATA")


def test_adult_rows_split_and_columns():
    train, test = fetch_adult(subset="train"), fetch_adult(subset="test")
    assert train.data.shape == (32561, 14) and test.data.shape == (16281, 14)
    assert len(fetch_adult(subset="all").data) == 32561 + 16281
    assert train.sensitive_features == ["sex", "race"]
    assert set(train.data["sex"]) == {"Female", "Male"}
    assert set(test.target) == {0, 1}
    assert train.target.mean() == pytest.approx(7841 / 32561)  # ">50K" rows
    assert pd.api.types.is_integer_dtype(train.data["age"])
    assert train.data["workclass"].isna().sum() == 1836  # "?" read as missing
    X, y = fetch_adult(subset="test", return_X_y=True, as_frame=False)
    assert X.shape == (16281, 14) and y.shape == (16281,)


def test_compas_filter_and_no_identifying_columns():
    data = fetch_compas()
    assert data.data.shape == (6172, 10)
    assert data.sensitive_features == ["race", "sex"]
    identifying = {"id", "name", "first", "last", "dob", "c_case_number"}
    assert not identifying & set(data.frame.columns)
    assert data.data["race"].value_counts()["African-American"] == 3175
    assert set(data.target) == {0, 1}


def test_german_sex_and_age():
    data = fetch_german()
    assert data.data.shape == (1000, 21)
    assert data.data["sex"].value_counts().to_dict() == {"male": 690, "female": 310}
    assert data.target.mean() == pytest.approx(0.7)
    assert (data.data["age"] > 25).sum() == 810
    assert data.sensitive_features == ["sex", "age"]


def test_wrong_checksum_is_refused(tmp_path):
    (tmp_path / "german").mkdir()
    corrupt = (
        (SHARED / "german" / "german.data").read_bytes().replace(b"A11", b"A12", 1)
    )
    (tmp_path / "german" / "german.data").write_bytes(corrupt)
    with pytest.raises(OSError, match="SHA-256"):
        fetch_german(data_home=tmp_path)


def test_missing_file_without_download(tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_german(data_home=tmp_path, download_if_missing=False)


@pytest.fixture
def mirror(tmp_path):
    """A loopback HTTP server serving a copy of the datasets folder."""
    root = tmp_path / "mirror"
    shutil.copytree(SHARED / "german", root / "german")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_from_loopback_mirror(mirror, tmp_path, monkeypatch):
    _, url = mirror
    monkeypatch.setenv(BASE_URL_VARIABLE, url)
    home = tmp_path / "home"
    data = fetch_german(data_home=home)
    assert len(data.data) == 1000
    downloaded = home / "german" / "german.data"
    assert downloaded.read_bytes() == (SHARED / "german" / "german.data").read_bytes()
    assert [p.name for p in downloaded.parent.iterdir()] == ["german.data"]


def test_download_with_wrong_checksum_leaves_nothing(mirror, tmp_path, monkeypatch):
    root, url = mirror
    served = root / "german" / "german.data"
    served.write_bytes(served.read_bytes()[:-10])
    monkeypatch.setenv(BASE_URL_VARIABLE, url)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="Refused"):
        fetch_german(data_home=home)
    assert not list((home / "german").iterdir())


def test_offline_error_says_where_to_put_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv(BASE_URL_VARIABLE, "http://127.0.0.1:9")  # nothing listens
    with pytest.raises(OSError, match="copy the file to .*german.data"):
        fetch_german(data_home=Path(tmp_path))
