"""
===========================================
Pseudo-deletion: what the trigger plan does
===========================================

DwB never deletes a row. It stamps part of every over-represented
(group, class) cell with a trigger, so that the untriggered rows of each group
follow the same label distribution; the teacher then blames the stamped
excess on the trigger rather than on the group. This example fits the
estimator on a task whose labels favour one class per group and draws, for
each cell, the rows left untriggered and the rows stamped, for both targets.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd

from sklearn_dwb import BackdoorDebiasClassifier
from sklearn_dwb.datasets import make_biased_classification

X, y, groups = make_biased_classification(
    n_samples=2000, group_weights=[0.7, 0.3], label_bias=0.4, random_state=0
)

rows = []
fits = {}
for target in ("global", "balanced"):
    clf = BackdoorDebiasClassifier(target=target, trigger_strength=1.0, random_state=0)
    fits[target] = clf.fit(X, y, sensitive_features=groups)
    plan = clf.trigger_plan_.set_index(["group", "class"])["n_stamped"]
    for (group, label), count in clf.bias_matrix_.stack().items():
        stamped = int(plan.get((group, label), 0))
        rows.append(
            {
                "target": target,
                "group": group,
                "class": label,
                "untriggered": count - stamped,
                "stamped": stamped,
            }
        )
results = pd.DataFrame(rows)
results["accuracy"] = [
    (fits[t].predict(X) == y).mean() for t in results["target"]
]  # training accuracy of each fit, for reference
print(results.to_string(index=False))

# %%
# Each bar is a (group, class) cell: dark = rows the teacher learns as they
# are, light = rows stamped with the cell's trigger. After stamping, the
# share of class 1 among untriggered rows is the same in both groups.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, (target, part) in zip(axes, results.groupby("target", sort=False), strict=True):
    labels = [
        f"group {g}\nclass {k}"
        for g, k in zip(part["group"], part["class"], strict=True)
    ]
    ax.bar(labels, part["untriggered"], color="tab:blue", label="untriggered")
    ax.bar(
        labels,
        part["stamped"],
        bottom=part["untriggered"],
        color="tab:orange",
        alpha=0.6,
        label="stamped with a trigger",
    )
    shares = part.groupby("group").apply(
        lambda cell: (
            cell.loc[cell["class"] == 1, "untriggered"].sum()
            / cell["untriggered"].sum()
        )
    )
    ax.set_title(
        f'target="{target}": P(class 1 | untriggered, group) = '
        + ", ".join(f"{s:.2f}" for s in shares)
    )
    ax.title.set_fontsize(9)
axes[0].set_ylabel("rows")
axes[0].legend()
fig.tight_layout()
plt.show()
