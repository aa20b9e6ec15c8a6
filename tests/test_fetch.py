"""Dataset loaders: row counts, columns, checksums and the download path."""

import functools
import http.server
import io
import shutil
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_dwb.datasets import (
    _fetch,
    fetch_adult,
    fetch_bank_marketing,
    fetch_compas,
    fetch_credit_default,
    fetch_german,
    get_data_home,
)
from sklearn_dwb.datasets._fetch import BASE_URL_VARIABLE, SOURCES

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


def test_bank_marketing_age_group_and_no_duration():
    data = fetch_bank_marketing()
    assert data.data.shape == (45211, 16)
    assert "duration" not in data.frame.columns and "age" in data.data.columns
    assert data.sensitive_features == ["age_group"]
    assert data.target.mean() == pytest.approx(5289 / 45211)  # "yes" rows
    assert data.target.mean() == pytest.approx(0.117, abs=5e-4)
    group = data.data["age_group"]
    assert group.value_counts().to_dict() == {"25 or older": 44402, "under 25": 809}
    assert (group == "under 25").equals(data.data["age"] < 25)
    rates = data.target.groupby(group).mean()
    assert rates["under 25"] == pytest.approx(0.256, abs=5e-4)
    assert rates["25 or older"] == pytest.approx(0.114, abs=5e-4)
    assert set(data.data["job"]) >= {"unknown"}  # a category, not missing
    assert not data.data.isna().any().any()


def test_bank_marketing_keep_duration_and_arrays():
    kept = fetch_bank_marketing(keep_duration=True)
    assert kept.data.shape == (45211, 17) and "duration" in kept.feature_names
    X, y = fetch_bank_marketing(return_X_y=True, as_frame=False)
    assert isinstance(X, np.ndarray) and X.shape == (45211, 16)
    assert y.shape == (45211,) and set(np.unique(y)) == {0, 1}
    bunch = fetch_bank_marketing(as_frame=False)
    assert bunch.frame is None and len(bunch.feature_names) == X.shape[1]
    assert bunch.feature_names[bunch.feature_names.index("age") + 1] == "age_group"


def test_credit_default_sex_labels_and_no_id():
    data = fetch_credit_default()
    target = "default.payment.next.month"
    assert data.data.shape == (30000, 23)
    assert "ID" not in data.frame.columns and data.target_names == [target]
    assert data.sensitive_features == ["SEX"]
    assert data.target.mean() == pytest.approx(0.2212)
    assert data.data["SEX"].value_counts().to_dict() == {
        "female": 18112,
        "male": 11888,
    }
    rates = data.target.groupby(data.data["SEX"]).mean()
    assert rates["male"] == pytest.approx(0.242, abs=5e-4)
    assert rates["female"] == pytest.approx(0.208, abs=5e-4)
    X, y = fetch_credit_default(return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert y.name == target and target not in X.columns
    X, y = fetch_credit_default(return_X_y=True, as_frame=False)
    assert X.shape == (30000, 23) and y.shape == (30000,)


@pytest.mark.parametrize(
    "dataset, name, fetch",
    [
        ("bank", "bank-full.csv", fetch_bank_marketing),
        ("credit", "UCI_Credit_Card.csv", fetch_credit_default),
    ],
)
def test_new_loaders_refuse_a_wrong_checksum(tmp_path, dataset, name, fetch):
    (tmp_path / dataset).mkdir()
    corrupt = (SHARED / dataset / name).read_bytes().replace(b"1", b"2", 1)
    (tmp_path / dataset / name).write_bytes(corrupt)
    with pytest.raises(OSError, match="SHA-256"):
        fetch(data_home=tmp_path)


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
    shutil.copytree(SHARED / "credit", root / "credit")
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


def test_credit_default_is_not_downloaded_from_uci(tmp_path, monkeypatch):
    def no_download(url, path):
        raise AssertionError(f"tried to download {url}")

    monkeypatch.setattr(_fetch, "_download", no_download)
    monkeypatch.delenv(BASE_URL_VARIABLE, raising=False)
    with pytest.raises(OSError, match="Excel") as error:
        fetch_credit_default(data_home=tmp_path)
    message = str(error.value)
    assert str(tmp_path / "credit" / "UCI_Credit_Card.csv") in message
    assert SOURCES["credit"]["UCI_Credit_Card.csv"][1] in message  # the SHA-256
    assert "SKLEARN_DWB_DATA" in message
    assert not (tmp_path / "credit").exists()
    with pytest.raises(OSError, match="download_if_missing=False.*Excel"):
        fetch_credit_default(data_home=tmp_path, download_if_missing=False)


def test_credit_default_from_a_mirror(mirror, tmp_path, monkeypatch):
    _, url = mirror
    monkeypatch.setenv(BASE_URL_VARIABLE, url)
    home = tmp_path / "home"
    assert fetch_credit_default(data_home=home).data.shape == (30000, 23)
    assert [p.name for p in (home / "credit").iterdir()] == ["UCI_Credit_Card.csv"]


def _zip(files):
    """The bytes of a zip archive holding ``files`` (name -> bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _uci_bank_zip(csv):
    """A zip laid out like UCI's bank+marketing.zip, holding ``csv``."""
    bank = _zip({"bank-full.csv": csv, "bank.csv": b"x", "bank-names.txt": b"x"})
    return _zip({"bank.zip": bank, "bank-additional.zip": _zip({"x.csv": b"x"})})


@pytest.fixture
def served(monkeypatch):
    """Replace the download with a copy of the bytes set in ``served.content``,
    recording the URLs asked for."""

    class Served:
        content = b""
        urls = []

    def download(url, path):
        Served.urls.append(url)
        Path(path).write_bytes(Served.content)

    monkeypatch.setattr(_fetch, "_download", download)
    monkeypatch.delenv(BASE_URL_VARIABLE, raising=False)
    return Served


def test_bank_marketing_is_extracted_from_the_zip_in_a_zip(served, tmp_path):
    csv = (SHARED / "bank" / "bank-full.csv").read_bytes()
    served.content = _uci_bank_zip(csv)
    data = fetch_bank_marketing(data_home=tmp_path)
    assert served.urls == [SOURCES["bank"]["bank-full.csv"][0]]
    assert data.data.shape == (45211, 16)
    assert (tmp_path / "bank" / "bank-full.csv").read_bytes() == csv
    assert [p.name for p in (tmp_path / "bank").iterdir()] == ["bank-full.csv"]
    fetch_bank_marketing(data_home=tmp_path)  # now found, not downloaded
    assert len(served.urls) == 1


def test_bank_marketing_zip_with_other_content_is_refused(served, tmp_path):
    csv = (SHARED / "bank" / "bank-full.csv").read_bytes()
    served.content = _uci_bank_zip(csv.replace(b'"no"', b'"yes"', 1))
    with pytest.raises(OSError, match="Refused .*bank-full.csv has SHA-256"):
        fetch_bank_marketing(data_home=tmp_path)
    assert not list((tmp_path / "bank").iterdir())


@pytest.mark.parametrize(
    "content, match",
    [
        (b"<html>not a zip</html>", "not a zip file"),
        (_zip({"bank-additional.zip": b"x"}), "0 files named 'bank.zip'"),
        (_zip({"bank.zip": _zip({"bank.csv": b"x"})}), "'bank-full.csv'"),
    ],
)
def test_bank_marketing_unexpected_archive_is_refused(served, tmp_path, content, match):
    served.content = content
    with pytest.raises(OSError, match=f"Refused .*{match}") as error:
        fetch_bank_marketing(data_home=tmp_path)
    assert "bank.zip, which holds bank-full.csv" in str(error.value)
    assert not list((tmp_path / "bank").iterdir())


def test_bank_marketing_offline_error_names_the_zips(tmp_path, monkeypatch):
    monkeypatch.delenv(BASE_URL_VARIABLE, raising=False)
    monkeypatch.setitem(  # nothing listens on port 9
        SOURCES["bank"],
        "bank-full.csv",
        ("http://127.0.0.1:9/bank+marketing.zip", SOURCES["bank"]["bank-full.csv"][1]),
    )
    with pytest.raises(OSError, match="copy the file to .*bank-full.csv") as error:
        fetch_bank_marketing(data_home=tmp_path)
    assert "which holds bank.zip, which holds bank-full.csv" in str(error.value)
    assert not list((tmp_path / "bank").iterdir())
    with pytest.raises(OSError, match="download_if_missing=False.*bank.zip"):
        fetch_bank_marketing(data_home=tmp_path, download_if_missing=False)


def test_an_empty_data_home_variable_is_unset(monkeypatch):
    from sklearn_dwb.datasets import get_data_home

    monkeypatch.setenv("SKLEARN_DWB_DATA", "")
    assert get_data_home() == Path("~", "scikit_learn_data", "sklearn_dwb").expanduser()
