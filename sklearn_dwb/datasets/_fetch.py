"""Loaders for the fairness benchmarks: Adult, COMPAS, German credit, Bank
marketing and credit card default.

Files are looked up in the data home (``data_home``, else the
``SKLEARN_DWB_DATA`` environment variable, else
``~/scikit_learn_data/sklearn_dwb``) under ``<dataset>/<file>``, checked
against their SHA-256, and downloaded from the canonical source when missing.
"""

import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ..utils._docstring import Substitution

# dataset -> file -> (canonical URL, sha256)
SOURCES = {
    "adult": {
        "adult.data": (
            "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
            "adult.data",
            "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
        ),
        "adult.test": (
            "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
            "adult.test",
            "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
        ),
    },
    "compas": {
        "compas-scores-two-years.csv": (
            "https://raw.githubusercontent.com/propublica/compas-analysis/master/"
            "compas-scores-two-years.csv",
            "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
        ),
    },
    "german": {
        "german.data": (
            "https://archive.ics.uci.edu/ml/machine-learning-databases/statlog/"
            "german/german.data",
            "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
        ),
    },
    "bank": {
        "bank-full.csv": (
            "https://archive.ics.uci.edu/static/public/222/bank+marketing.zip",
            "d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d",
        ),
    },
    "credit": {
        "UCI_Credit_Card.csv": (
            "https://archive.ics.uci.edu/static/public/350/"
            "default+of+credit+card+clients.zip",
            "e3d893c1b4a9dc73220d01e18975ea04adb79fd8e0cebed1aea739e77797224e",
        ),
    },
}

# Files the canonical URL serves inside zip archives: dataset -> file -> the
# members to open, outermost first. A mirror serves the file itself.
ZIP_MEMBERS = {
    "bank": {"bank-full.csv": ("bank.zip", "bank-full.csv")},
}

# Files the canonical source does not distribute as they are: dataset -> file
# -> where they come from. They are read from the data home or a mirror only.
NOT_DOWNLOADABLE = {
    "credit": {
        "UCI_Credit_Card.csv": "the file UCI_Credit_Card.csv as published "
        "with UCI's table on Kaggle (dataset "
        "uciml/default-of-credit-card-clients-dataset), the CSV export of the "
        "Excel table in {url}; UCI distributes no CSV, and a CSV exported from "
        "that Excel file by hand differs from the pinned file byte for byte",
    },
}

#: Environment variable naming a mirror laid out as ``<base>/<dataset>/<file>``.
BASE_URL_VARIABLE = "SKLEARN_DWB_DATA_URL"


def get_data_home(data_home=None):
    """The folder holding the datasets.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder. Else ``SKLEARN_DWB_DATA``, else
        ``~/scikit_learn_data/sklearn_dwb``.

    Returns
    -------
    pathlib.Path
        The folder (not created).

    Examples
    --------
    >>> from sklearn_dwb.datasets import get_data_home
    >>> str(get_data_home("/data/fairness"))
    '/data/fairness'
    """
    if data_home is None:
        # an empty variable is unset (the shell's ``VAR=``), not the
        # current folder
        data_home = os.environ.get("SKLEARN_DWB_DATA") or None
    if data_home is None:
        data_home = Path("~", "scikit_learn_data", "sklearn_dwb")
    return Path(data_home).expanduser()


def _download(url, path):
    """Download ``url`` to the file ``path`` (pooch picks the protocol)."""
    from pooch.downloaders import choose_downloader

    choose_downloader(url)(url, str(path), None)


def _zip_member(archive, member):
    """The bytes of ``member`` (matched by base name) in the zip ``archive``."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        names = [name for name in opened.namelist() if name.split("/")[-1] == member]
        if len(names) != 1:
            raise OSError(
                f"the archive holds {len(names)} files named {member!r}, "
                f"expected one; it holds {opened.namelist()}"
            )
        return opened.read(names[0])


def _fetch_file(dataset, name, data_home, download_if_missing):
    """Path of a verified dataset file, downloading it if needed.

    The download goes to a temporary folder beside the file; the file is
    extracted from its zip archives if the source serves it zipped
    (``ZIP_MEMBERS``), checked against its SHA-256, and only then moved to
    its place.
    """
    url, sha256 = SOURCES[dataset][name]
    members = ZIP_MEMBERS.get(dataset, {}).get(name, ())
    not_downloadable = NOT_DOWNLOADABLE.get(dataset, {}).get(name)
    if not_downloadable:
        origin = not_downloadable.format(url=url)
    else:
        origin = ", which holds ".join([f"from {url}", *members])
    folder = get_data_home(data_home) / dataset
    path = folder / name
    if path.exists():
        _check_hash(path, sha256, origin if not_downloadable else None)
        return path
    if not download_if_missing:
        raise OSError(
            f"{path} is missing and download_if_missing=False. Put the file "
            f"there ({origin}), or point data_home / SKLEARN_DWB_DATA at a "
            "folder that holds it."
        )
    base = os.environ.get(BASE_URL_VARIABLE)
    if base:
        url, members = f"{base.rstrip('/')}/{dataset}/{name}", ()
    elif not_downloadable:
        raise OSError(
            f"{path} is missing and cannot be downloaded ({origin}). Put {name} "
            f"(SHA-256 {sha256}) there, or point data_home / "
            f"SKLEARN_DWB_DATA at a folder holding {dataset}/{name}, or "
            f"{BASE_URL_VARIABLE} at a mirror serving it."
        )
    folder.mkdir(parents=True, exist_ok=True)
    _download_verified(url, members, path, sha256, origin)
    return path


def _check_hash(path, sha256, replace_with=None):
    """Refuse a file whose SHA-256 is not the pinned one, saying how to get
    the right one (``replace_with`` for a file that is not downloaded)."""
    import pooch

    found = pooch.file_hash(path, alg="sha256")
    if found != sha256:
        raise OSError(
            f"{path} has SHA-256 {found}, expected {sha256}: the file is "
            "corrupt or a different version. "
            + (
                f"Replace it with {replace_with}."
                if replace_with
                else "Delete it to download it again."
            )
        )


def _download_verified(url, members, path, sha256, origin):
    """Download ``url`` beside ``path``, open its zip ``members``, check the
    file's SHA-256, and only then move it to ``path``."""
    import pooch

    with tempfile.TemporaryDirectory(prefix=".download-", dir=path.parent) as temporary:
        download = Path(temporary, "download")
        try:
            _download(url, download)
        except Exception as error:  # offline, HTTP error, ...
            raise OSError(
                f"Could not download {url} ({error}). Without network access, "
                f"copy the file to {path} ({origin}), or point data_home / "
                "SKLEARN_DWB_DATA at a folder holding <dataset>/<file>."
            ) from error
        if members:
            content = download.read_bytes()
            try:
                for member in members:
                    content = _zip_member(content, member)
            except Exception as error:  # not a zip, member missing, ...
                chain = ", which holds ".join(members)
                raise OSError(
                    f"Refused {url}: {error}; expected a zip archive holding {chain}."
                ) from error
            download.write_bytes(content)
        found = pooch.file_hash(download, alg="sha256")
        if found != sha256:
            raise OSError(
                f"Refused {url}: {path.name} has SHA-256 {found}, expected "
                f"{sha256} (a different version or a corrupt download); nothing "
                "was saved."
            )
        os.replace(download, path)


def _bunch(frame, target, sensitive, description, return_X_y, as_frame):
    X = frame.drop(columns=target)
    y = frame[target]
    if not as_frame:
        X, y = X.to_numpy(), y.to_numpy()
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=frame if as_frame else None,
        feature_names=list(frame.columns.drop(target)),
        target_names=[target],
        sensitive_features=sensitive,
        DESCR=description,
    )


# Parameter and return descriptions shared by the loaders' docstrings.
_LOADER_DOCS = {
    "data_home": """data_home : str or path-like, default=None
    See :func:`get_data_home`.""",
    "download_if_missing": """download_if_missing : bool, default=True
    Download missing files from the canonical source.""",
    "return_X_y": """return_X_y : bool, default=False
    Return ``(X, y)`` instead of a Bunch.""",
    "as_frame": """as_frame : bool, default=True
    Return pandas objects; else numpy arrays (object dtype for ``X``).""",
    "returns": """data : sklearn.utils.Bunch
    ``data`` (features), ``target``, ``frame``, ``feature_names``,
    ``target_names``, ``sensitive_features`` (the column names) and
    ``DESCR``. ``(X, y)`` with ``return_X_y=True``.""",
}


ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]


@Substitution(**_LOADER_DOCS)
def fetch_adult(
    *,
    subset="train",
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    as_frame=True,
):
    """Load the UCI Adult census income data (32,561 train + 16,281 test rows).

    Target ``income``: 1 for ">50K", else 0. Sensitive columns: ``sex``
    ("Female", "Male") and ``race`` (five categories; often binarised as
    ``race == "White"``). Missing values ("?") are NaN. Source: UCI ML
    Repository, "Adult" (id 2), CC BY 4.0.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        The official split: ``adult.data``, ``adult.test``, or both (train
        rows first).
    %(data_home)s
    %(download_if_missing)s
    %(return_X_y)s
    %(as_frame)s

    Returns
    -------
    %(returns)s

    Examples
    --------
    >>> from sklearn_dwb.datasets import fetch_adult
    >>> X, y = fetch_adult(subset="test", return_X_y=True)
    >>> X.shape
    (16281, 14)
    >>> X["sex"].value_counts().to_dict()
    {'Male': 10860, 'Female': 5421}
    """
    if subset not in ("train", "test", "all"):
        raise ValueError(f"subset must be 'train', 'test' or 'all'; got {subset!r}.")
    files = {"train": ["adult.data"], "test": ["adult.test"]}.get(
        subset, ["adult.data", "adult.test"]
    )
    parts = []
    for name in files:
        path = _fetch_file("adult", name, data_home, download_if_missing)
        part = pd.read_csv(
            path,
            names=ADULT_COLUMNS,
            sep=",",
            skipinitialspace=True,
            na_values="?",
            comment="|",
        )
        parts.append(part.dropna(subset=["income"]))
    frame = pd.concat(parts, ignore_index=True)
    frame["income"] = frame["income"].str.rstrip(".").eq(">50K").astype(np.int64)
    return _bunch(
        frame, "income", ["sex", "race"], fetch_adult.__doc__, return_X_y, as_frame
    )


# ProPublica's columns that identify people (names, birth dates, case numbers).
COMPAS_IDENTIFYING = [
    "id",
    "name",
    "first",
    "last",
    "dob",
    "c_case_number",
    "r_case_number",
    "vr_case_number",
]
COMPAS_FEATURES = [
    "sex",
    "age",
    "age_cat",
    "race",
    "juv_fel_count",
    "juv_misd_count",
    "juv_other_count",
    "priors_count",
    "c_charge_degree",
    "c_charge_desc",
]


@Substitution(**_LOADER_DOCS)
def fetch_compas(
    *, data_home=None, download_if_missing=True, return_X_y=False, as_frame=True
):
    """Load ProPublica's COMPAS two-year recidivism data (6,172 rows).

    ProPublica's filter is applied (``days_b_screening_arrest`` in
    [-30, 30], ``is_recid != -1``, ``c_charge_degree != "O"``,
    ``score_text != "N/A"``) and identifying columns (names, dates of birth,
    case numbers) are dropped. Features: ``sex``, ``age``, ``age_cat``,
    ``race``, juvenile and prior counts, charge degree and description.
    Target ``two_year_recid``. Sensitive columns: ``race`` (six categories;
    often "African-American" vs "Caucasian") and ``sex``. Source:
    github.com/propublica/compas-analysis.

    Parameters
    ----------
    %(data_home)s
    %(download_if_missing)s
    %(return_X_y)s
    %(as_frame)s

    Returns
    -------
    %(returns)s

    Examples
    --------
    >>> from sklearn_dwb.datasets import fetch_compas
    >>> X, y = fetch_compas(return_X_y=True)
    >>> len(X)
    6172
    """
    path = _fetch_file(
        "compas", "compas-scores-two-years.csv", data_home, download_if_missing
    )
    raw = pd.read_csv(path)
    keep = (
        raw["days_b_screening_arrest"].between(-30, 30)
        & (raw["is_recid"] != -1)
        & (raw["c_charge_degree"] != "O")
        & (raw["score_text"] != "N/A")
    )
    frame = raw.loc[keep, COMPAS_FEATURES + ["two_year_recid"]].reset_index(drop=True)
    return _bunch(
        frame,
        "two_year_recid",
        ["race", "sex"],
        fetch_compas.__doc__,
        return_X_y,
        as_frame,
    )


GERMAN_COLUMNS = [
    "checking_account",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installments",
    "housing",
    "existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
    "credit",
]


@Substitution(**_LOADER_DOCS)
def fetch_german(
    *, data_home=None, download_if_missing=True, return_X_y=False, as_frame=True
):
    """Load the Statlog German credit data (1,000 rows).

    The 20 coded attributes keep their codes (e.g. "A11"), with readable
    column names. A column ``sex`` is derived from attribute 9
    (``personal_status``: A92 and A95 are "female", else "male"). Target
    ``credit``: 1 for good, 0 for bad credit. Sensitive columns: ``sex`` and
    ``age`` (years; ``age > 25`` is the usual privileged group: pass a
    module-level function such as ``def over_25(X): return X["age"] > 25``
    as ``sensitive_columns=over_25``; a lambda works but cannot be pickled).
    Source: UCI ML
    Repository, "Statlog (German Credit Data)" (id 144), CC BY 4.0.

    Parameters
    ----------
    %(data_home)s
    %(download_if_missing)s
    %(return_X_y)s
    %(as_frame)s

    Returns
    -------
    %(returns)s

    Examples
    --------
    >>> from sklearn_dwb.datasets import fetch_german
    >>> data = fetch_german()
    >>> data.frame["sex"].value_counts().to_dict()
    {'male': 690, 'female': 310}
    """
    path = _fetch_file("german", "german.data", data_home, download_if_missing)
    frame = pd.read_csv(path, sep=" ", header=None, names=GERMAN_COLUMNS)
    frame.insert(
        frame.columns.get_loc("personal_status") + 1,
        "sex",
        np.where(frame["personal_status"].isin(["A92", "A95"]), "female", "male"),
    )
    frame["credit"] = (frame["credit"] == 1).astype(np.int64)
    return _bunch(
        frame, "credit", ["sex", "age"], fetch_german.__doc__, return_X_y, as_frame
    )


@Substitution(**_LOADER_DOCS)
def fetch_bank_marketing(
    *,
    keep_duration=False,
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    as_frame=True,
):
    """Load the UCI Bank Marketing data (45,211 rows, ``bank-full.csv``).

    Clients of a Portuguese bank called in direct marketing campaigns. Target
    ``y``: 1 if the client subscribed a term deposit ("yes", 11.7%), else 0.
    A column ``age_group`` is derived from ``age``: "under 25" or "25 or
    older" (the usual privileged group; 809 rows are under 25, with a
    positive rate of 0.256 against 0.114). ``age`` stays a feature. The
    other columns keep their values; "unknown" is a category, not a missing
    value, and ``pdays`` is -1 for clients not contacted before. Sensitive
    column: ``age_group``. Source: UCI ML Repository, "Bank Marketing"
    (id 222), CC BY 4.0 (Moro, Cortez and Rita, 2014); the file is
    extracted from ``bank.zip`` inside the repository's zip.

    Parameters
    ----------
    keep_duration : bool, default=False
        Keep ``duration``, the length of the last call in seconds. It is
        known only once the call is over, and then nearly decides the
        outcome (a zero duration means "no"), so it is dropped by default,
        as for a model used before the call. Keep it to compare with work
        that used all 16 attributes.
    %(data_home)s
    %(download_if_missing)s
    %(return_X_y)s
    %(as_frame)s

    Returns
    -------
    %(returns)s

    Examples
    --------
    >>> from sklearn_dwb.datasets import fetch_bank_marketing
    >>> X, y = fetch_bank_marketing(return_X_y=True)
    >>> X.shape
    (45211, 16)
    >>> X["age_group"].value_counts().to_dict()
    {'25 or older': 44402, 'under 25': 809}
    >>> print(round(y.mean(), 3))
    0.117
    """
    path = _fetch_file("bank", "bank-full.csv", data_home, download_if_missing)
    frame = pd.read_csv(path, sep=";")
    if not keep_duration:
        frame = frame.drop(columns="duration")
    frame.insert(
        frame.columns.get_loc("age") + 1,
        "age_group",
        np.where(frame["age"] < 25, "under 25", "25 or older"),
    )
    frame["y"] = (frame["y"] == "yes").astype(np.int64)
    return _bunch(
        frame, "y", ["age_group"], fetch_bank_marketing.__doc__, return_X_y, as_frame
    )


CREDIT_TARGET = "default.payment.next.month"


@Substitution(**_LOADER_DOCS)
def fetch_credit_default(
    *, data_home=None, download_if_missing=True, return_X_y=False, as_frame=True
):
    """Load the UCI Default of Credit Card Clients data (30,000 rows).

    Credit card holders in Taiwan (2005). Target
    ``default.payment.next.month``: 1 for a default on the next payment
    (22.1%), else 0. ``SEX`` is "male" or "female" (coded 1 and 2 in the
    file); the 22 other features keep their names and codes (``LIMIT_BAL``,
    ``EDUCATION``, ``MARRIAGE``, ``AGE``, repayment status ``PAY_0`` and
    ``PAY_2`` to ``PAY_6``, ``BILL_AMT1`` to ``BILL_AMT6``, ``PAY_AMT1`` to
    ``PAY_AMT6``); the row number ``ID`` is dropped. Sensitive column:
    ``SEX`` (default rates 0.242 for men and 0.208 for women). Source: UCI
    ML Repository, "Default of Credit Card Clients" (id 350), CC BY 4.0
    (Yeh and Lien, 2009).

    UCI distributes this table only as an Excel file, which would need an
    extra package to read, so the loader reads its widely used CSV export,
    ``UCI_Credit_Card.csv``, and does not download it: put that file in
    ``<data_home>/credit/`` (it is checked against its SHA-256), or set
    ``SKLEARN_DWB_DATA_URL`` to a mirror that serves it.

    Parameters
    ----------
    %(data_home)s
    download_if_missing : bool, default=True
        Download a missing file from a mirror (``SKLEARN_DWB_DATA_URL``);
        without one, a missing file is an error that says where to put it.
    %(return_X_y)s
    %(as_frame)s

    Returns
    -------
    %(returns)s

    Examples
    --------
    >>> from sklearn_dwb.datasets import fetch_credit_default
    >>> data = fetch_credit_default()
    >>> data.data.shape
    (30000, 23)
    >>> data.frame.groupby("SEX")[data.target_names[0]].mean().round(3).to_dict()
    {'female': 0.208, 'male': 0.242}
    """
    path = _fetch_file("credit", "UCI_Credit_Card.csv", data_home, download_if_missing)
    frame = pd.read_csv(path).drop(columns="ID")
    frame["SEX"] = frame["SEX"].map({1: "male", 2: "female"})
    return _bunch(
        frame,
        CREDIT_TARGET,
        ["SEX"],
        fetch_credit_default.__doc__,
        return_X_y,
        as_frame,
    )
