"""The tasks of the comparison: dataset, sensitive feature, split and seeds."""

import functools

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from sklearn_dwb.datasets import (
    fetch_adult,
    fetch_bank_marketing,
    fetch_compas,
    fetch_credit_default,
    fetch_german,
    make_tabular_encoder,
)


# ----------------------------------------------------------------- tasks
def _adult(seed, column, binarise):
    train, test = fetch_adult(subset="train"), fetch_adult(subset="test")
    return (
        train.data,
        test.data,
        train.target.to_numpy(),
        test.target.to_numpy(),
        binarise(train.data[column]),
        binarise(test.data[column]),
    )


def _split(data, seed, groups):
    """70/30 split stratified by (group, class) cell: every split keeps
    each cell's share, so its disparities vary only with the rows drawn."""
    strata = (
        pd.Series(groups).astype(str).to_numpy()
        + "|"
        + data.target.to_numpy().astype(str)
    )
    return train_test_split(
        data.data,
        data.target.to_numpy(),
        groups,
        test_size=0.3,
        stratify=strata,
        random_state=seed,
    )


def _compas_race(seed):
    data = fetch_compas()
    keep = data.data["race"].isin(["African-American", "Caucasian"]).to_numpy()
    data.data = data.data[keep].reset_index(drop=True)
    data.target = data.target[keep]
    return _split(data, seed, data.data["race"].to_numpy())


def _german(seed, column):
    data = fetch_german()
    groups = data.data[column].to_numpy()
    if column == "age":
        groups = np.where(groups > 25, "over 25", "25 or under")
    return _split(data, seed, groups)


def _bank_age(seed):
    data = fetch_bank_marketing()
    return _split(data, seed, data.data["age_group"].to_numpy())


def _credit_sex(seed):
    data = fetch_credit_default()
    return _split(data, seed, data.data["SEX"].to_numpy())


def _as_array(groups):
    return groups.to_numpy()


def _white_or_not(groups):
    return np.where(groups == "White", "White", "non-White")


TASKS = {
    "adult-sex": functools.partial(_adult, column="sex", binarise=_as_array),
    "adult-race": functools.partial(_adult, column="race", binarise=_white_or_not),
    "compas-race": _compas_race,
    "german-sex": functools.partial(_german, column="sex"),
    "german-age": functools.partial(_german, column="age"),
    "bank-age": _bank_age,
    "credit-sex": _credit_sex,
}


#: Seeds run per task by default (seeds 0 to n - 1).
TASK_SEEDS = {
    "adult-sex": 10,
    "adult-race": 10,
    "compas-race": 20,
    "german-sex": 20,
    "german-age": 20,
    "bank-age": 10,
    "credit-sex": 10,
}


def task_seeds(task, seeds=None):
    """The seeds run on a task: ``range(seeds)``, or the task's
    :data:`TASK_SEEDS` when None."""
    return range(TASK_SEEDS[task] if seeds is None else seeds)


@functools.lru_cache(maxsize=4)
def _encoded_task(task, seed):
    X_train, X_test, y_train, y_test, g_train, g_test = TASKS[task](seed)
    encoder = make_tabular_encoder()
    privileged = np.unique(g_train)[-1]
    features = []
    for X, g, fit in ((X_train, g_train, True), (X_test, g_test, False)):
        encoded = encoder.fit_transform(X) if fit else encoder.transform(X)
        indicator = (g == privileged).astype(np.float32)[:, None]
        features.append(np.hstack([encoded, indicator]).astype(np.float32))
    data = features[0], features[1], y_train, y_test, g_train, g_test
    return data, [*encoder.get_feature_names_out(), "group"]


def load_task(task, seed):
    """Encoded float32 train/test features (group indicator last), labels,
    and group labels of one task and seed."""
    return _encoded_task(task, seed)[0]


#: The columns of each task's table the group is read or derived from
#: (German credit's ``personal_status`` codes sex with marital status;
#: Bank Marketing's ``age_group`` is cut from ``age``).
SENSITIVE_SOURCES = {
    "adult-sex": ("sex",),
    "adult-race": ("race",),
    "compas-race": ("race",),
    "german-sex": ("sex", "personal_status"),
    "german-age": ("age",),
    "bank-age": ("age", "age_group"),
    "credit-sex": ("SEX",),
}


def blind_columns(task, seed):
    """Indices of the encoded features that neither are the group indicator
    nor encode a column of ``SENSITIVE_SOURCES``: what a model that is given
    no group sees."""
    names = _encoded_task(task, seed)[1]
    sources = SENSITIVE_SOURCES[task]
    dropped = [
        name == "group"
        or any(
            name == f"numeric__{column}" or name.startswith(f"categorical__{column}_")
            for column in sources
        )
        for name in names
    ]
    return np.flatnonzero(~np.array(dropped))
