"""The estimator's own checks and warnings around a fit: parameters that do
not apply, groups the method cannot help, and teachers that did not learn
their triggers."""

import difflib
import inspect

import numpy as np

from ._disparity import undefined_rates
from ._groups import plain_label
from ._tuning import WEAK_TRIGGER_FLIP_RATE
from .nn import TabularMLP
from .utils._warnings import warn_caller

MODULE_PREFIX = "module__"
#: Parameters that act only in the search for a bound.
BOUND_PARAMETERS = (
    "max_disparity",
    "max_accuracy_loss",
    "confidence",
    "blend_students",
    "cv",
    "n_jobs",
)


def some(labels, shown=5):
    """The first few labels, and how many more: warnings stay readable with
    thousands of groups."""
    labels = list(labels)
    if len(labels) <= shown:
        return str(labels)
    return f"{labels[:shown]} and {len(labels) - shown} more"


def unexpected_keyword(estimator, name):
    """The error for a keyword that is no parameter: the closest parameter
    name (of the estimator, or of the default network with its ``module__``
    prefix), else how the network's are passed."""
    network = [
        MODULE_PREFIX + p
        for p in inspect.signature(TabularMLP).parameters
        if p not in ("n_features", "n_classes", "generator")
    ]
    names = [*inspect.signature(type(estimator)).parameters, *network]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
    start = f"{type(estimator).__name__} got an unexpected keyword argument {name!r}"
    if close:
        return TypeError(f"{start}; did you mean {close[0]!r}?")
    return TypeError(
        f"{start}. It is no parameter of the estimator; keyword arguments of a "
        f"custom network module are prefixed with {MODULE_PREFIX!r} (e.g. "
        "module__hidden_layer_sizes)."
    )


def _is_default(value, default):
    try:
        return bool(value is default or value == default)
    except (TypeError, ValueError):  # e.g. arrays: not a default
        return False


def warn_ignored_parameters(estimator):
    """Say which parameters of the search for a bound a fit ignores: they act
    only with trigger_strength="auto" and max_disparity."""
    if estimator.trigger_strength == "auto" and estimator.max_disparity is not None:
        return
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(type(estimator)).parameters.items()
    }
    ignored = [
        f"{name}={getattr(estimator, name)!r}"
        for name in BOUND_PARAMETERS
        if not _is_default(getattr(estimator, name), defaults[name])
    ]
    if not ignored:
        return
    verb = "is ignored: it configures"
    if len(ignored) > 1:
        verb = "are ignored: they configure"
    warn_caller(
        f"{', '.join(ignored)} {verb} the search for a bound, which runs "
        "with trigger_strength='auto' and max_disparity set (now "
        f"trigger_strength={estimator.trigger_strength!r}, max_disparity="
        f"{estimator.max_disparity!r}).",
    )


def check_network_parameters_unset(estimator, module_kwargs):
    """Refuse network parameters given together with a wrapped estimator."""
    given = [MODULE_PREFIX + name for name in module_kwargs]
    if estimator.module is not None:
        given.insert(0, "module")
    if given:
        raise ValueError(
            f"{', '.join(given)} set together with estimator="
            f"{type(estimator.estimator).__name__}(...): they configure the "
            "network, which an estimator replaces. Unset them, or set "
            "estimator=None to train the network."
        )


def warn_undefined_rates(metric, data):
    """Name the groups whose rates of ``metric`` are undefined (no actual
    positive, or no negative): they count as 0, as in fairlearn."""
    found = undefined_rates(
        metric,
        data.y_codes,
        data.group_codes,
        len(data.group_labels),
        len(data.classes),
        data.sample_weight,
    )
    for group, rate, k in found[:3]:
        positive = plain_label(data.classes, 1 if len(data.classes) == 2 else k)
        lacks = "of class" if rate == 1 else "of a class other than"
        name = "true" if rate == 1 else "false"
        warn_caller(
            f"Group {plain_label(data.group_labels, group)!r} has no row "
            f"{lacks} {positive!r}, so its {name}-positive rate is "
            f"undefined: it counts as 0, as in fairlearn, in {metric}, which "
            "is then at least the other groups' rate. Merge the group with "
            "another, or bound demographic_parity_difference.",
        )


def warn_untriggered_groups(candidate, data, min_group_size):
    """Name the groups the plan gives no trigger: without weight, lacking a
    class, or smaller than ``min_group_size``."""
    labels, plan = data.group_labels, candidate.plan
    weightless = plan.bias_matrix.sum(axis=1) <= 0
    # a group without weight is said whatever the strengths, "auto"
    # choosing 0 for every group included
    if weightless.any():
        warn_caller(
            f"Groups {some(labels[weightless])} have a total sample weight of "
            "0: they take no part in training and get no triggers. Check "
            "that sample_weight is aligned with the rows of X.",
        )
    if np.all(np.asarray(candidate.strength) == 0):
        return
    incomplete = plan.incomplete & ~weightless
    if incomplete.any():
        warn_caller(
            f"Groups {some(labels[incomplete])} lack at least one "
            "class and get no triggers; their bias is left as it is.",
        )
    small = plan.small & ~weightless
    if small.any():
        warn_caller(
            f"Groups {some(labels[small])} have fewer than "
            f"min_group_size={min_group_size} rows and get no triggers; "
            "merge them with other groups or lower min_group_size.",
        )


def warn_weak_triggers(flip_rate, network):
    """Say it when the teacher barely learned its triggers."""
    measured = flip_rate[~np.isnan(flip_rate)]
    if not len(measured) or np.median(measured) >= WEAK_TRIGGER_FLIP_RATE:
        return
    fix = (
        "Raise trigger_value or max_epochs, or check that the features are "
        "standardised."
    )
    if not network:
        fix = (
            "Raise trigger_value, or let the estimator fit more closely (more "
            "iterations, less regularisation)."
        )
    warn_caller(
        "The teacher barely responds to its triggers (median flip rate "
        f"{np.median(measured):.2f}, see trigger_plan_), so the bias "
        f"stays on the group. {fix}",
    )


def check_nested_estimator_params(params, estimator):
    """Refuse ``estimator__*`` parameters while ``estimator`` is (or is set
    to) None: name the call that sets both."""
    nested = [name for name in params if name.startswith("estimator__")]
    if nested and params.get("estimator", estimator) is None:
        raise ValueError(
            f"{nested[0]} sets a parameter of estimator, which is None (the "
            "network, whose parameters are the estimator's own, e.g. "
            "max_epochs). Set the estimator in the same call, e.g. "
            "set_params(estimator=HistGradientBoostingClassifier(), "
            f"{nested[0]}=...), or in a grid: "
            "{'estimator': [HistGradientBoostingClassifier()], "
            f"'{nested[0]}': [...]}}."
        )
