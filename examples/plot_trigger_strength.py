"""
================================================
Accuracy and disparity against trigger strength
================================================

``trigger_strength`` sets how much of each over-represented (group, class)
cell's excess the teacher attributes to a backdoor trigger. This example
sweeps it for both targets on a synthetic task whose labels are biased by
group, and plots test accuracy, demographic-parity difference and
equalized-odds difference (from :mod:`fairlearn.metrics`) for the student.
"""

# %%
# Data: the label of 40% of each group's rows is overwritten by the group's
# favoured class, so the observed base rates differ by group.
import matplotlib.pyplot as plt
import pandas as pd
from fairlearn.metrics import (
    demographic_parity_difference,
    equalized_odds_difference,
)
from sklearn.model_selection import train_test_split

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification

X, y, groups = make_biased_classification(
    n_samples=3000, label_bias=0.4, random_state=0
)
X_train, X_test, y_train, y_test, g_train, g_test = train_test_split(
    X, y, groups, test_size=0.3, stratify=y, random_state=0
)

# %%
# Sweep the strength for both targets. Strength 0 is the unmitigated network.
rows = []
for target in ("global", "balanced"):
    for strength in (0.0, 0.25, 0.5, 1.0, 1.5):
        clf = BackdoorDebiasClassifier(
            trigger_strength=strength, target=target, random_state=0
        )
        y_pred = clf.fit(X_train, y_train, sensitive_features=g_train).predict(X_test)
        rows.append(
            {
                "target": target,
                "trigger_strength": strength,
                "accuracy": (y_pred == y_test).mean(),
                "demographic_parity_difference": demographic_parity_difference(
                    y_test, y_pred, sensitive_features=g_test
                ),
                "equalized_odds_difference": equalized_odds_difference(
                    y_test, y_pred, sensitive_features=g_test
                ),
            }
        )
results = pd.DataFrame(rows)
print(results.round(3).to_string(index=False))

# %%
# Plot. Pseudo-deletion equalises base rates, so the demographic-parity
# difference falls with the strength; measured against the biased labels,
# the equalized-odds difference rises once the groups' base rates match.
metrics = ["accuracy", "demographic_parity_difference", "equalized_odds_difference"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), sharex=True)
for ax, metric in zip(axes, metrics, strict=True):
    for target, part in results.groupby("target"):
        ax.plot(part["trigger_strength"], part[metric], marker="o", label=target)
    ax.set_title(metric.replace("_", " "))
    ax.set_xlabel("trigger_strength")
axes[0].legend(title="target")
fig.tight_layout()
plt.show()
