"""
=====================================================
DwB in a Pipeline on Adult, with sex as the sensitive
=====================================================

A :class:`~sklearn.compose.ColumnTransformer` one-hot encodes the
categorical columns of the Adult census data and standardises the numeric
ones; :class:`~sklearn_dwb.BackdoorDebiasClassifier` is the last step. The
groups reach it as ``sensitive_features`` through the Pipeline's fit
parameters. We compare the unmitigated network with DwB on the official test
set, per group, with :func:`sklearn_dwb.metrics.fairness_report`.
"""

# %%
# Load the official train/test split. The files are read from the data home
# (``SKLEARN_DWB_DATA``) and downloaded on first use.
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import fetch_adult
from sklearn_dwb.metrics import fairness_report

X_train, y_train = fetch_adult(subset="train", return_X_y=True)
X_test, y_test = fetch_adult(subset="test", return_X_y=True)
if os.environ.get("SKLEARN_DWB_QUICK"):  # a small run for the test suite
    X_train, y_train = X_train.iloc[:4000], y_train.iloc[:4000]


# %%
# One pipeline per trigger strength: 0 is the plain network.
def make_model(strength):
    encoder = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_exclude="number"),
            ),
            ("numeric", StandardScaler(), make_column_selector(dtype_include="number")),
        ],
        sparse_threshold=0,
    )
    return make_pipeline(
        encoder, BackdoorDebiasClassifier(trigger_strength=strength, random_state=0)
    )


reports = {}
for name, strength in [("unmitigated", 0.0), ("DwB, strength 0.5", 0.5)]:
    model = make_model(strength)
    model.fit(
        X_train, y_train, backdoordebiasclassifier__sensitive_features=X_train["sex"]
    )
    reports[name] = fairness_report(
        y_test, model.predict(X_test), sensitive_features=X_test["sex"]
    )
    print(f"{name}: trigger plan\n{model[-1].trigger_plan_.round(3).to_string()}\n")

results = pd.DataFrame(
    {
        name: {"accuracy": r.loc["overall", "accuracy"], **r.attrs["disparities"]}
        for name, r in reports.items()
    }
).T
print(results.round(3).to_string())

# %%
# Per-group rates: DwB narrows the gap in selection rates between women and
# men.
columns = ["selection_rate", "true_positive_rate", "false_positive_rate"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), sharey=True)
for ax, column in zip(axes, columns, strict=True):
    table = pd.DataFrame(
        {name: r.loc[["Female", "Male"], column] for name, r in reports.items()}
    )
    table.plot.bar(ax=ax, rot=0, legend=ax is axes[0])
    ax.set_title(column.replace("_", " "))
fig.tight_layout()
plt.show()
