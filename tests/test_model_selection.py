"""Model selection under a fairness bound: fair_refit, grid searches with and
without metadata routing, the automatic trigger strength, and searches in
parallel (joblib processes and threads, Dask clusters of processes and of
threads)."""

import os

import joblib
import numpy as np
import pytest
import sklearn
import torch
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import (
    fetch_adult,
    get_data_home,
    make_biased_classification,
    make_tabular_encoder,
)
from sklearn_dwb.metrics import fairness_scorer
from sklearn_dwb.model_selection import fair_refit

CV_RESULTS = {
    "mean_test_accuracy": np.array([0.86, 0.85, 0.84, 0.80]),
    "mean_test_eod": np.array([-0.09, -0.045, -0.02, -0.01]),
}


# ----------------------------------------------------------- fair_refit
@pytest.mark.parametrize("bound, expected", [(0.05, 1), (0.02, 2), (0.1, 0), (0.01, 3)])
def test_fair_refit_picks_most_accurate_within_bound(bound, expected):
    refit = fair_refit(disparity="eod", performance="accuracy", max_disparity=bound)
    assert refit(CV_RESULTS) == expected


def test_fair_refit_falls_back_to_least_disparate():
    refit = fair_refit(disparity="eod", performance="accuracy", max_disparity=0.001)
    with pytest.warns(UserWarning, match="No candidate"):
        assert refit(CV_RESULTS) == 3
    missing = fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.1)
    with pytest.raises(
        KeyError, match=r"mean_test_dpd.*'dpd': fairness_scorer\('equalized_odds"
    ):
        missing(CV_RESULTS)


def test_fair_refit_validates_its_parameters_and_refuses_all_nan_disparities():
    for bad in ("0.1", -1, None):
        with pytest.raises(ValueError, match="'max_disparity' parameter of fair_refit"):
            fair_refit(disparity="eod", performance="accuracy", max_disparity=bad)
    with pytest.raises(ValueError, match="'disparity' parameter of fair_refit"):
        fair_refit(disparity=1, performance="accuracy", max_disparity=0.1)
    refit = fair_refit(disparity="eod", performance="accuracy", max_disparity=0.05)
    all_nan = {**CV_RESULTS, "mean_test_eod": np.full(4, np.nan)}
    with pytest.raises(
        ValueError, match="Every candidate's mean accuracy or eod is NaN"
    ):
        refit(all_nan)


def test_fair_refit_never_refits_a_failed_candidate():
    refit = fair_refit(disparity="eod", performance="acc", max_disparity=0.06)
    failed = {
        "mean_test_acc": np.array([np.nan, np.nan, 0.9]),
        "mean_test_eod": np.array([-0.01, -0.02, -0.2]),
    }
    with pytest.warns(
        UserWarning,
        match=r"within 0.06 \(2 candidates failed, with NaN scores, and are not "
        r"refitted\); refitting the least disparate one that scored \(index 2, "
        r"0.2000\)",
    ):
        assert refit(failed) == 2
    # a candidate within the bound whose performance failed is not refitted
    failed["mean_test_eod"][2] = -0.05
    assert refit(failed) == 2


# --------------------------------------------------------- grid searches
def _scoring():
    return {
        "accuracy": "accuracy",
        "dpd": fairness_scorer("demographic_parity_difference"),
    }


GRID = {"backdoordebiasclassifier__trigger_strength": [0.0, 1.0]}


@pytest.fixture
def search_params(fast_params):
    """The fast settings, trained longer on smaller batches: the searches
    compare the parity gaps of two strengths."""
    return {**fast_params, "max_epochs": 40, "batch_size": 64}


def test_grid_search_with_metadata_routing(search_params):
    X, y, groups = make_biased_classification(
        n_samples=900, label_bias=0.5, random_state=0
    )
    with sklearn.config_context(enable_metadata_routing=True):
        clf = BackdoorDebiasClassifier(**search_params)
        clf.set_fit_request(sensitive_features=True)
        search = GridSearchCV(
            make_pipeline(StandardScaler(), clf),
            GRID,
            scoring=_scoring(),
            refit=fair_refit(
                disparity="dpd", performance="accuracy", max_disparity=0.2
            ),
            cv=3,
        ).fit(X, y, sensitive_features=groups)
    dpd = -search.cv_results_["mean_test_dpd"]
    assert dpd[1] < 0.5 * dpd[0]  # strength 1 removes most of the parity gap
    assert search.best_params_ == {"backdoordebiasclassifier__trigger_strength": 1.0}
    assert search.best_estimator_[-1].trigger_strength_ == 1.0


def test_grid_search_without_routing_on_a_dataframe_pipeline(search_params):
    X, y, groups = make_biased_classification(
        n_samples=900, label_bias=0.5, as_frame=True, random_state=0
    )
    X = X.assign(sex=np.where(groups == 1, "male", "female")).drop(columns="group")
    encoder = ColumnTransformer(
        [("sex", OneHotEncoder(drop="first", sparse_output=False), ["sex"])],
        remainder=StandardScaler(),
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    pipe = make_pipeline(
        encoder, BackdoorDebiasClassifier(sensitive_columns="sex_male", **search_params)
    )
    search = GridSearchCV(
        pipe,
        GRID,
        scoring=_scoring(),
        refit=fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.1),
        cv=3,
    ).fit(X, y)
    dpd = -search.cv_results_["mean_test_dpd"]
    assert dpd[1] < 0.5 * dpd[0]
    assert search.best_index_ == 1
    # the scorer read the groups from X as it reached the classifier
    y_pred = search.predict(X)
    scorer = fairness_scorer("demographic_parity_difference")
    assert scorer(search.best_estimator_, X, y) == pytest.approx(
        -demographic_parity_difference(y, y_pred, sensitive_features=groups)
    )


# ---------------------------------------------------- automatic strength
def test_auto_strength_follows_its_rule():
    X, y, groups = make_biased_classification(
        n_samples=1500, label_bias=0.5, random_state=0
    )
    clf = BackdoorDebiasClassifier(
        trigger_strength="auto", random_state=0, max_epochs=30
    )
    clf.fit(X, y, sensitive_features=groups)
    search = clf.plan_search_
    # one strength for every group: the two strength columns agree
    assert list(search["strength[0]"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert list(search["strength[1]"]) == list(search["strength[0]"])
    assert search["selected"].sum() == 1
    chosen = search[search["selected"]].iloc[0]
    assert clf.trigger_strength_ == chosen["strength[0]"]
    accurate = search["accuracy"] >= search["accuracy"].max() - clf.auto_tolerance
    disparity = search["demographic_parity_difference"]
    assert chosen["demographic_parity_difference"] == disparity[accurate].min()
    # on this strongly biased task the search trades little accuracy for parity
    assert clf.trigger_strength_ > 0
    assert chosen["demographic_parity_difference"] < disparity.loc[0]


# ------------------------------------------------------------- parallel
class ThreadCountingLinear(torch.nn.Module):
    """Records how many intra-op threads torch had when the net was built."""

    def __init__(self, n_features, n_classes):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.torch_threads = torch.get_num_threads()

    def forward(self, X):
        return self.linear(X)


def test_two_jobs_do_not_oversubscribe_the_cores():
    X, y, groups = make_biased_classification(n_samples=400, random_state=0)
    result = cross_validate(
        BackdoorDebiasClassifier(
            module=ThreadCountingLinear, max_epochs=2, random_state=0
        ),
        X,
        y,
        cv=2,
        n_jobs=2,
        return_estimator=True,
        params={"sensitive_features": groups},
    )
    threads = [est.student_.module_.torch_threads for est in result["estimator"]]
    # joblib's process workers split the cores between them
    assert sum(threads) <= max(os.cpu_count(), 2)


def test_same_results_across_n_jobs(biased_data, fast_params):
    X, y, _ = biased_data
    clf = BackdoorDebiasClassifier(sensitive_columns=[-1], **fast_params)
    searches = [
        GridSearchCV(clf, {"trigger_strength": [0.0, 1.0]}, cv=2, n_jobs=n_jobs).fit(
            X, y
        )
        for n_jobs in (1, 2)
    ]
    np.testing.assert_array_equal(
        searches[0].cv_results_["mean_test_score"],
        searches[1].cv_results_["mean_test_score"],
    )
    np.testing.assert_array_equal(
        searches[0].predict_proba(X), searches[1].predict_proba(X)
    )


def test_search_in_threads_matches_the_sequential_search(biased_data, fast_params):
    X, y, _ = biased_data
    clf = BackdoorDebiasClassifier(sensitive_columns=[-1], **fast_params)
    grid = {"trigger_strength": [0.0, 0.5, 1.0]}
    sequential = GridSearchCV(clf, grid, cv=2, scoring=_scoring(), refit="dpd")
    sequential.fit(X, y)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    with joblib.parallel_backend("threading"):
        threaded = GridSearchCV(
            clf, grid, cv=2, scoring=_scoring(), refit="dpd", n_jobs=2
        ).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert threaded.best_params_ == sequential.best_params_
    for key in ("mean_test_accuracy", "mean_test_dpd", "split1_test_dpd"):
        np.testing.assert_array_equal(
            threaded.cv_results_[key], sequential.cv_results_[key]
        )
    np.testing.assert_array_equal(
        threaded.predict_proba(X), sequential.predict_proba(X)
    )


def _fair_search(params):
    return GridSearchCV(
        BackdoorDebiasClassifier(sensitive_columns=[-1], **params),
        {"trigger_strength": [0.0, 0.5, 1.0]},
        scoring=_scoring(),
        refit=fair_refit(disparity="dpd", performance="accuracy", max_disparity=0.05),
        cv=3,
        n_jobs=2,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "cluster",
    [
        dict(n_workers=2, threads_per_worker=1),
        # Dask's default for a local cluster: several threads per worker;
        # fits in threads of this process must still match
        # (tcp: the in-process transport takes no host)
        dict(processes=False, n_workers=1, threads_per_worker=2, protocol="tcp://"),
    ],
    ids=["processes", "threads"],
)
def test_dask_search_matches_local_search(fast_params, cluster):
    distributed = pytest.importorskip("distributed")
    X, y, _ = make_biased_classification(n_samples=600, random_state=0)
    local = _fair_search(fast_params).fit(X, y)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    with (
        distributed.LocalCluster(
            **cluster, dashboard_address=None, host="127.0.0.1"
        ) as local_cluster,
        distributed.Client(local_cluster),
        joblib.parallel_backend("dask"),
    ):
        remote = _fair_search(fast_params).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert remote.best_params_ == local.best_params_
    for key in ("mean_test_accuracy", "mean_test_dpd"):
        np.testing.assert_allclose(remote.cv_results_[key], local.cv_results_[key])
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))


def test_readme_pipeline_names_its_group_column_on_adult(fast_params):
    """The README's no-routing Pipeline: the encoder's pandas output, the
    group found from the one-hot columns of ``sex``, the scorer through the
    Pipeline, in a GridSearchCV."""
    if not (get_data_home() / "adult").exists():
        pytest.skip("datasets not found; set SKLEARN_DWB_DATA")
    X, y = fetch_adult(subset="train", return_X_y=True)
    X, y = X.iloc[:3000], y.iloc[:3000]
    assert not sklearn.get_config()["enable_metadata_routing"]
    model = make_pipeline(
        make_tabular_encoder().set_output(transform="pandas"),
        BackdoorDebiasClassifier(
            sensitive_columns="sex",
            auto_metric="equalized_odds_difference",
            **fast_params,
        ),
    )
    step = "backdoordebiasclassifier__"
    search = GridSearchCV(
        model,
        [
            {step + "trigger_strength": [0.0]},
            {step + "trigger_strength": ["auto"], step + "max_disparity": [0.05]},
        ],
        scoring={
            "acc": "accuracy",
            "eod": fairness_scorer("equalized_odds_difference"),
        },
        refit=fair_refit(disparity="eod", performance="acc", max_disparity=0.2),
        cv=2,
    ).fit(X, y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_eod"]))
    best = search.best_estimator_
    assert list(best[-1].groups_) == ["Female", "Male"]
    # the scorer's groups are the raw sex column, read back from the encoding
    y_pred = best.predict(X)
    expected = equalized_odds_difference(y, y_pred, sensitive_features=X["sex"])
    scorer = fairness_scorer("equalized_odds_difference")
    assert scorer(best, X, y) == pytest.approx(-expected, abs=1e-12)
