"""
================================================
Accuracy and disparity against trigger strength
================================================

Historical labels often carry a group bias: part of one group's rows were
given the favoured outcome, part of the other's the unfavoured one. This
example trains on such labels and sweeps ``trigger_strength``, the share of
each over-represented (group, class) cell's excess that the teacher blames
on a backdoor trigger, for both targets. The students are scored on a test
split twice: against the observed (biased) labels, which is all real data
offers, and against the fair labels the synthetic task draws before the
bias (``make_biased_classification(return_fair_labels=True)``).
"""

# %%
# Data: the label of 40% of each group's rows is overwritten by the group's
# favoured class, so the observed base rates differ by group while the fair
# labels do not.
import matplotlib.pyplot as plt
import pandas as pd
from fairlearn.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
)
from sklearn.model_selection import train_test_split

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification

X, y, groups, y_fair = make_biased_classification(
    n_samples=3000, label_bias=0.4, return_fair_labels=True, random_state=0
)
X_train, X_test, y_train, y_test, g_train, g_test, _, fair_test = train_test_split(
    X, y, groups, y_fair, test_size=0.3, stratify=y, random_state=0
)

# %%
# Sweep the strength for both targets. Strength 0 is the unmitigated network.
rows = []
for target in ("global", "balanced"):
    for strength in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
        clf = BackdoorDebiasClassifier(
            trigger_strength=strength, target=target, random_state=0
        )
        y_pred = clf.fit(X_train, y_train, sensitive_features=g_train).predict(X_test)
        for labels, y_true in (("observed", y_test), ("fair", fair_test)):
            rows.append(
                {
                    "target": target,
                    "trigger_strength": strength,
                    "labels": labels,
                    "accuracy": (y_pred == y_true).mean(),
                    "equalized_odds_difference": equalized_odds_difference(
                        y_true, y_pred, sensitive_features=g_test
                    ),
                    "demographic_parity_difference": demographic_parity_difference(
                        y_true, y_pred, sensitive_features=g_test
                    ),
                }
            )
results = pd.DataFrame(rows)
print(results.round(3).to_string(index=False))

# %%
# Plot: top row against the fair labels, bottom row against the observed
# ones. Against the fair labels, accuracy rises and the equalized-odds
# difference falls as the strength grows towards 1: the student recovers the
# fair decision rule. Against the observed labels the same students look
# worse on equalized odds, because they disagree with the labels where the
# bias put them. The demographic-parity difference does not depend on the
# labels and falls with the strength: DwB equalises base rates first.
metrics = ["accuracy", "equalized_odds_difference", "demographic_parity_difference"]
fig, axes = plt.subplots(2, 3, figsize=(12, 6.5), sharex=True)
for row, labels in enumerate(("fair", "observed")):
    view = results[results["labels"] == labels]
    for ax, metric in zip(axes[row], metrics, strict=True):
        for target, part in view.groupby("target"):
            ax.plot(part["trigger_strength"], part[metric], marker="o", label=target)
        ax.set_title(f"{metric.replace('_', ' ')}\n(against {labels} labels)")
        ax.set_xlabel("trigger_strength")
axes[0, 0].legend(title="target")
fig.tight_layout()
plt.show()
