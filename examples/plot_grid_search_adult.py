"""
=========================================================
Grid-search the trigger strength under a fairness bound
=========================================================

Users tune ``trigger_strength`` and ``target`` like any hyper-parameter. Here
:class:`~sklearn.model_selection.GridSearchCV` scores every candidate for
accuracy and for the equalized-odds difference (a fairlearn metric, wrapped by
:func:`sklearn_dwb.metrics.fairness_scorer`), and
:func:`sklearn_dwb.model_selection.fair_refit` refits the most accurate
candidate whose mean disparity stays within a bound. The groups (``sex``)
reach both the estimator and the scorer by scikit-learn's metadata routing.
"""

# %%
import os

import matplotlib.pyplot as plt
import pandas as pd
import sklearn
from fairlearn.metrics import equalized_odds_difference
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import fetch_adult, make_tabular_encoder
from sklearn_dwb.metrics import fairness_scorer
from sklearn_dwb.model_selection import fair_refit

sklearn.set_config(enable_metadata_routing=True)

X_train, y_train = fetch_adult(subset="train", return_X_y=True)
X_test, y_test = fetch_adult(subset="test", return_X_y=True)
quick = bool(os.environ.get("SKLEARN_DWB_QUICK"))  # a small run for the test suite
if quick:
    X_train, y_train = X_train.iloc[:4000], y_train.iloc[:4000]

# %%
# The pipeline asks for ``sensitive_features`` in ``fit``; the fairness
# scorer asks for it by default.
# ``make_tabular_encoder`` is the ColumnTransformer of the previous example:
# one-hot categorical columns, standardised numeric ones.
pipe = make_pipeline(
    make_tabular_encoder(),
    BackdoorDebiasClassifier(random_state=0).set_fit_request(sensitive_features=True),
)
MAX_EOD = 0.07
search = GridSearchCV(
    pipe,
    {
        "backdoordebiasclassifier__trigger_strength": [0.0, 0.25, 0.5, 0.75],
        "backdoordebiasclassifier__target": ["global", "balanced"],
    },
    scoring={
        "accuracy": "accuracy",
        "eod": fairness_scorer("equalized_odds_difference"),
    },
    refit=fair_refit(disparity="eod", performance="accuracy", max_disparity=MAX_EOD),
    cv=2 if quick else 3,
    n_jobs=2,
)
search.fit(X_train, y_train, sensitive_features=X_train["sex"])

results = pd.DataFrame(
    {
        "trigger_strength": search.cv_results_[
            "param_backdoordebiasclassifier__trigger_strength"
        ],
        "target": search.cv_results_["param_backdoordebiasclassifier__target"],
        "accuracy": search.cv_results_["mean_test_accuracy"],
        "equalized_odds_difference": -search.cv_results_["mean_test_eod"],
    }
)
print(results.round(3).to_string())
y_pred = search.predict(X_test)
print(
    f"chosen: {search.best_params_}\n"
    f"adult.test accuracy {(y_pred == y_test).mean():.3f}, equalized-odds difference "
    f"{equalized_odds_difference(y_test, y_pred, sensitive_features=X_test['sex']):.3f}"
)

# %%
# Every candidate's cross-validated accuracy against its equalized-odds
# difference; the refit choice is circled, the bound dashed.
fig, ax = plt.subplots(figsize=(6, 4))
for target, part in results.groupby("target"):
    ax.scatter(
        part["equalized_odds_difference"], part["accuracy"], label=f"target={target}"
    )
    for _, row in part.iterrows():
        ax.annotate(
            f"{row['trigger_strength']:g}",
            (row["equalized_odds_difference"], row["accuracy"]),
            fontsize=8,
        )
best = results.iloc[search.best_index_]
ax.scatter(
    best["equalized_odds_difference"],
    best["accuracy"],
    s=200,
    facecolors="none",
    edgecolors="black",
    label="refit choice",
)
ax.axvline(MAX_EOD, linestyle="--", color="grey")
ax.set_xlabel("equalized-odds difference (CV mean)")
ax.set_ylabel("accuracy (CV mean)")
ax.legend()
fig.tight_layout()
plt.show()

sklearn.set_config(enable_metadata_routing=False)
