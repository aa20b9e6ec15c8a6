"""
=====================================================
The accuracy-disparity front of one fit, on Adult
=====================================================

One fit with ``trigger_strength="auto"`` and ``max_disparity`` scores every
per-group plan of its dose teachers (3,721 plans for two groups) on
held-out predictions, with confidence bounds, and checks the students it
distils. That is the whole trade-off between accuracy and disparity of the
task, from one fit: :class:`~sklearn_dwb.inspection.FrontDisplay` draws it,
with the bound, the plain plan (strength 0 for every group), the checked
students, the model kept, and the kept model's scores on the test split.
"""

# %%
# Fit DwB over gradient boosting on Adult, the equalized-odds difference
# bounded at 0.03 (sensitive feature ``sex``).
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import make_pipeline

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import fetch_adult, make_tabular_encoder
from sklearn_dwb.inspection import FrontDisplay

X_train, y_train = fetch_adult(subset="train", return_X_y=True)
X_test, y_test = fetch_adult(subset="test", return_X_y=True)
if os.environ.get("SKLEARN_DWB_QUICK"):  # a small run for the test suite
    X_train, y_train = X_train.iloc[:4000], y_train.iloc[:4000]
model = make_pipeline(
    make_tabular_encoder().set_output(transform="pandas"),
    BackdoorDebiasClassifier(
        estimator=HistGradientBoostingClassifier(random_state=0),
        sensitive_columns="sex",
        trigger_strength="auto",
        auto_metric="equalized_odds_difference",
        max_disparity=0.03,
        random_state=0,
    ),
).fit(X_train, y_train)

# %%
# Draw the front. Each faint point is a plan, scored by the teachers that
# did not learn its rows; the blue line joins the plans no other plan beats
# on both axes, with their confidence bounds; the star is the model kept,
# at its own check's scores and bounds; the diamond is where the test split
# puts it.
display = FrontDisplay.from_estimator(
    model, test=(X_test, y_test, X_test["sex"].to_numpy())
)
display.ax_.set_xlim(0, 0.4)
plt.show()

# %%
# The kept model's checked scores, and what the test split shows.
results = pd.DataFrame(
    {
        "accuracy": [display.kept["accuracy"], display.test["accuracy"]],
        "equalized_odds_difference": [
            display.kept["disparity"],
            display.test["disparity"],
        ],
    },
    index=["checked on the training rows", "test split"],
)
print(results.round(4).to_string())
