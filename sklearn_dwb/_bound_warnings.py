"""What the search for a bound says when the model it keeps is not within
the bound, or not within the accuracy loss: the figures, the plan kept, and
what to do."""

from .utils._warnings import warn_caller


def warn_if_out_of_bound(
    scores,
    score,
    strengths,
    max_disparity,
    student,
    longer="max_epochs, n_iter_no_change",
    blended=None,
    note="",
):
    """Warn when the model kept is not within the bound (none was, and the
    least disparate one found by the checked value is used), or is more than
    ``max_accuracy_loss`` below the plain plan's accuracy (none within the
    loss was found); ``strengths`` are the kept plan's per group,
    ``longer`` names the parameters that train the models longer,
    ``blended`` the weight of the plan's student where it is kept blended
    with another; ``note`` is said last."""
    disparity = scores.checked_disparity(score)
    below_floor = score.accuracy < scores.accuracy_floor
    if disparity <= max_disparity and not below_floor:
        return
    if student:
        where = "for the student on the training rows (whose labels it never saw)"
    else:
        where = "on the training rows"
        if scores.n_folds > 1:
            where += " (each predicted by a teacher that did not learn it)"
    value = "value"
    fix = ""
    if scores.confidence is not None:
        value = f"upper {scores.confidence:g}-confidence bound"
        fix = ", lower confidence, or fit on more rows (a narrower interval)"
    chosen = _kept_plan_text(strengths, blended)
    plain = scores.score(scores.plain_plan).accuracy
    if below_floor:
        warn_caller(
            f"No model found {where} is within max_accuracy_loss="
            f"{scores.max_accuracy_loss:g} of the plain plan's accuracy "
            f"({plain:.4f}, strength 0 for every group): the most accurate, "
            f"at accuracy {score.accuracy:.4f} and {scores.metric} "
            f"{disparity:.4f} (the {value}), is used ({chosen}). Raise "
            f"max_accuracy_loss, or train longer ({longer}).",
        )
        return
    warn_caller(
        f"No plan reaches {scores.metric} <= {max_disparity} {where} "
        f"(checked: the {value}); the plan with "
        f"the smallest {value} found, {disparity:.4f} at accuracy "
        f"{score.accuracy:.4f}, is used ({chosen}). "
        f"{_cost_of_bound_text(scores, max_disparity, plain)}"
        f"Raise max_disparity{fix}, or train longer ({longer}): one strength "
        f"per group moves base rates and cannot close every gap.{note}",
    )


def _kept_plan_text(strengths, blended):
    """The kept plan's strengths, the first five groups named."""
    shown = list(strengths.items())
    chosen = ", ".join(f"{name}={strength:g}" for name, strength in shown[:5])
    if len(shown) > 5:
        more = len(shown) - 5
        chosen += f", and {more} more group{'s' * (more > 1)}: see trigger_strength_"
    if blended is not None:
        chosen += (
            f"; its student blended with another at weight {blended:g}: see student_"
        )
    return chosen


def _cost_of_bound_text(scores, max_disparity, plain):
    """What the bound would cost, when only plans below the accuracy floor
    meet it by the teachers' scores."""
    within = [
        s.accuracy
        for s in scores.teacher_scores.values()
        if scores.checked_disparity(s) <= max_disparity
    ]
    if not within or max(within) >= scores.accuracy_floor:
        return ""
    best = max(within)
    return (
        f"The bound costs {plain - best:.2f} of accuracy: the most accurate "
        f"plan within it scores {best:.4f} against the plain plan's "
        f"{plain:.4f} (strength 0 for every group); raise max_accuracy_loss "
        "to keep the bound at that cost. "
    )
