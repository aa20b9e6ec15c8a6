"""Which rows each model learns and which it is scored on: the validation
split (early stopping, and the strengths of "auto" without a bound) and the
folds of the search for a bound (each row held out by exactly one dose
teacher), with their checks."""

from collections.abc import Iterator
from numbers import Integral
from typing import NamedTuple

import numpy as np
from sklearn.model_selection import StratifiedKFold, check_cv, train_test_split

from ._groups import plain_label


class Rows(NamedTuple):
    """The rows a network trains on and those it stops early on (None when
    nothing is held out)."""

    train: np.ndarray
    valid: np.ndarray | None


def validation_split(cell_codes, class_codes, seed, fraction, held_out):
    """Train and validation rows, stratified by (group, class) cell, or by
    class, or not at all where a stratum is too small; everything trains
    when nothing is ``held_out``."""
    everything = np.arange(len(class_codes))
    if not held_out:
        return Rows(everything, None)
    split = dict(test_size=fraction, random_state=seed)
    for stratify in (cell_codes, class_codes):
        try:
            return Rows(*train_test_split(everything, stratify=stratify, **split))
        except ValueError:
            continue  # too few rows in some stratum: stratify on less
    return Rows(*train_test_split(everything, **split))


def too_few_validation_rows(fraction, valid_rows, n_rows, needed, why, other=""):
    """The error for a validation split too small for its job: how many rows
    it would take."""
    share = min(0.5, needed / n_rows)
    return ValueError(
        f"validation_fraction={fraction} leaves {len(valid_rows)} validation "
        f"row(s) of {n_rows}, and {why}: raise validation_fraction to at least "
        f"{share:.3g} (about {needed} rows){other}."
    )


def check_validation_holds_every_group(fraction, valid_rows, group_codes, group_labels):
    """Every group needs validation rows where the validation split scores
    the strengths of "auto" without a bound: more validation rows where the
    group is large enough for a share of them to hold it, else what to do
    about the group."""
    missing = np.setdiff1d(np.unique(group_codes), group_codes[valid_rows])
    if not missing.size:
        return
    code, n_rows = missing[0], len(group_codes)
    group = plain_label(group_labels, code)
    size = int(np.sum(group_codes == code))
    why = (
        f"they hold no row of group {group!r} ({size} row(s) in all), so "
        "trigger_strength='auto' cannot score its disparity there"
    )
    needed = max(10 * len(group_labels), int(np.ceil(2 * n_rows / size)))
    if needed / n_rows <= 0.5 and needed > len(valid_rows):
        raise too_few_validation_rows(fraction, valid_rows, n_rows, needed, why)
    raise ValueError(
        f"validation_fraction={fraction} leaves {len(valid_rows)} validation "
        f"row(s) of {n_rows}, and {why}. Group {group!r} is too small to score "
        "on a validation split: merge it with another group, or set "
        "max_disparity (the search for a bound scores every row, each by a "
        "teacher that did not learn it)."
    )


def check_every_fold_stops_early(fraction, rows, folds, early_stopping):
    """With early stopping, each fold's dose teacher needs validation rows
    among the rows it learns."""
    if not early_stopping or rows.valid is None:
        return
    n_rows = len(rows.train) + len(rows.valid)
    for fold, (fold_rows, _) in enumerate(folds, start=1):
        if not np.isin(rows.valid, fold_rows).any():
            raise too_few_validation_rows(
                fraction,
                rows.valid,
                n_rows,
                10 * len(folds),
                f"the teacher of fold {fold} of {len(folds)} learns none of "
                "them, so its early stopping has nothing to watch",
                ", or set early_stopping=False",
            )


def fold_codes(folds, n_rows):
    """The fold that holds out each row."""
    codes = np.empty(n_rows, dtype=np.intp)
    for fold, (_, held_out) in enumerate(folds):
        codes[held_out] = fold
    return codes


def cross_fit_folds(
    cv,
    cell_codes,
    class_codes,
    seed,
    *,
    classes=None,
    group_codes=None,
    groups=None,
    stamped_groups=None,
):
    """The (fit rows, held-out rows) of each dose teacher; every row is held
    out by exactly one teacher.

    ``cv=None``: one teacher learns every row and predicts every row. An
    int: that many folds, shuffled with ``seed`` and stratified by (group,
    class) cell, or by class where a cell has fewer rows than folds. A
    splitter or an iterable of splits (scikit-learn's ``check_cv``): its
    splits of the rows, with the class codes as ``y``; its every fold's fit
    rows must hold every class (``classes`` names them) and every group of
    ``group_codes`` that the plan stamps (``stamped_groups``, by default
    every group; ``groups`` names them): a teacher that never saw one cannot
    predict it, nor learn its dose.
    """
    everything = np.arange(len(class_codes))
    if cv is None:
        return [(everything, everything)]
    if isinstance(cv, Integral):
        smallest = np.unique(class_codes, return_counts=True)[1].min()
        if smallest < cv:
            raise ValueError(
                f"cv={cv} needs at least {cv} rows of each class to hold out "
                f"in every fold, but the smallest class has {smallest}. Use "
                "fewer folds, or cv=None (one teacher scores the plans on the "
                "rows it learned)."
            )
        cells = np.unique(cell_codes, return_counts=True)[1].min() >= cv
        strata = cell_codes if cells else class_codes
        splits = StratifiedKFold(cv, shuffle=True, random_state=seed).split(
            everything, strata
        )
        folds = [(np.asarray(fit), np.asarray(held_out)) for fit, held_out in splits]
    else:
        folds = _splits_of(cv, everything, class_codes)
    times_held_out = np.bincount(
        np.concatenate([held_out for _, held_out in folds] or [[]]).astype(int),
        minlength=len(everything),
    )
    if len(folds) < 2 or np.any(times_held_out != 1):
        raise ValueError(
            "cv must hold out every row exactly once over at least two folds, "
            "like KFold or StratifiedKFold; splitters such as ShuffleSplit "
            "leave rows out or hold them out twice."
        )
    if isinstance(cv, Integral):
        # shuffled and stratified: every class is in every fold; a tiny
        # group may miss one (min_group_size=0), as it would in any split
        return folds
    _check_folds_hold_everything(folds, class_codes, classes, "class")
    if group_codes is not None:
        _check_folds_hold_everything(
            folds, group_codes, groups, "group", required=stamped_groups
        )
    return folds


def _splits_of(cv, everything, class_codes):
    """A splitter's or an iterable's folds, as index arrays within range."""
    if isinstance(cv, Iterator):
        cv = list(cv)
        if not cv:
            raise ValueError(
                "cv is a generator of splits that is used up (a generator can "
                "be read once, e.g. by an earlier fit); pass a list instead, "
                "e.g. cv=list(KFold(3).split(X)), or the splitter itself, "
                "cv=KFold(3)."
            )
    try:
        splits = check_cv(cv, class_codes, classifier=True).split(
            everything, class_codes
        )
        folds = [(np.asarray(fit), np.asarray(held_out)) for fit, held_out in splits]
    except ValueError as error:
        if "groups" not in str(error):
            raise
        raise ValueError(
            f"cv={cv!r} splits rows by groups, and fit passes it none: the "
            "plan search's folds must each hold every sensitive group, so a "
            "group splitter cannot take those. To keep related rows together, "
            "pass the folds as a list of (train, test) index arrays, e.g. "
            "cv=list(GroupKFold(3).split(X, y, groups=my_groups))."
        ) from error
    n_rows = len(everything)
    for number, (fit, held_out) in enumerate(folds, start=1):
        for part in (fit, held_out):
            if part.size and (
                not np.issubdtype(part.dtype, np.integer)
                or part.min() < 0
                or part.max() >= n_rows
            ):
                raise ValueError(
                    f"Fold {number} of cv holds indices outside 0 .. "
                    f"{n_rows - 1} (from {part.min()} to {part.max()}); the "
                    f"folds must index the {n_rows} rows passed to fit."
                )
    return folds


def _check_folds_hold_everything(folds, codes, names, what, required=None):
    present = np.unique(codes) if required is None else np.asarray(required)
    for number, (fit, _) in enumerate(folds, start=1):
        missing = np.setdiff1d(present, codes[fit])
        if missing.size:
            name = plain_label(names, missing[0])
            raise ValueError(
                f"Fold {number} of cv trains on no row of {what} {name!r}, so "
                f"its teacher could not predict that {what}. Shuffle the rows "
                "(e.g. KFold(shuffle=True)), or pass an int: cv folds are "
                "stratified by (group, class) cell."
            )
